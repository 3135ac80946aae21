"""A delivery pass over many instant chats at once: read, render and claim in batches, send in a fixed pool.

Per chat the pass does what :meth:`DeliveryService.deliver_chat` does, but the database work is shared: the
waiting rows of a few hundred chats come in one query and are claimed in one transaction, and the 'sent'
marks are group-committed (:class:`SentMarks`). A fixed pool of ``concurrency`` senders works through the
claimed messages, so a fan-out to 10,000 chats costs a few dozen transactions and no task per chat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import KW_ONLY, dataclass

from bot.core.clock import Clock
from bot.core.messaging import Messenger
from bot.core.models import Chat, OutboxItem
from bot.services.delivery.chat_locks import ChatLocks
from bot.services.delivery.rendering import Rendered
from bot.services.delivery.results import DeliveryResult, total
from bot.services.delivery.sender import OutboxSender
from bot.storage.store import Storage

log = logging.getLogger(__name__)

CLAIM_CHUNK = 256  # chats read, rendered and claimed per transaction; also how far claiming runs ahead


@dataclass(frozen=True, slots=True)
class _Job:
    chat: Chat
    messenger: Messenger
    message: Rendered
    lock: asyncio.Lock  # held from the claim until the message is done


@dataclass(eq=False)
class BatchDelivery:
    storage: Storage
    clock: Clock
    sender: OutboxSender
    locks: ChatLocks
    slots: asyncio.Semaphore
    _: KW_ONLY
    concurrency: int
    stopping: Callable[[], bool]
    serve_one: Callable[[Chat], Awaitable[DeliveryResult]]  # a chat someone else serves: wait, then send the rest
    # the chat's message, or what became of its rows when there is none
    prepare: Callable[[Chat, Messenger, list[OutboxItem]], Awaitable[Rendered | DeliveryResult]]

    async def run(self, chats: Sequence[tuple[Chat, Messenger]]) -> DeliveryResult:
        """Serve these instant chats; stopping leaves messages not yet begun unclaimed again."""
        if not chats:
            return DeliveryResult()
        queue: asyncio.Queue[_Job | None] = asyncio.Queue(maxsize=CLAIM_CHUNK)
        results: list[DeliveryResult] = []
        unsent: list[_Job] = []
        busy: list[Chat] = []
        pool = [asyncio.create_task(self._send_loop(queue, results, unsent)) for _ in range(self.concurrency)]
        try:
            await self._produce(chats, queue, results, busy)
        finally:
            for _ in pool:
                await queue.put(None)
            await asyncio.gather(*pool)
            await self._give_back(unsent)
        # A pass returns only when every chat it found is served, like one chat's delivery does.
        outcomes = await asyncio.gather(*(self.serve_one(chat) for chat in busy), return_exceptions=True)
        for chat, outcome in zip(busy, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                log.error("delivery to chat %s failed unexpectedly", chat.id, exc_info=outcome)
            else:
                results.append(outcome)
        return total(results)

    async def _produce(
        self,
        chats: Sequence[tuple[Chat, Messenger]],
        queue: asyncio.Queue[_Job | None],
        results: list[DeliveryResult],
        busy: list[Chat],
    ) -> None:
        for start in range(0, len(chats), CLAIM_CHUNK):
            if self.stopping():
                return
            held: list[tuple[Chat, Messenger, asyncio.Lock]] = []
            for chat, messenger in chats[start : start + CLAIM_CHUNK]:
                lock = await self.locks.try_acquire(chat.id)
                if lock is not None:
                    held.append((chat, messenger, lock))
                else:
                    busy.append(chat)
            jobs: list[_Job] = []
            try:
                jobs = await self._claim(held, results)
            finally:
                claimed = {id(job.lock) for job in jobs}
                for _, _, lock in held:
                    if id(lock) not in claimed:
                        lock.release()
            for job in jobs:
                await queue.put(job)

    async def _claim(
        self, held: list[tuple[Chat, Messenger, asyncio.Lock]], results: list[DeliveryResult]
    ) -> list[_Job]:
        """Read the chats' waiting rows in one query, render, and claim every message in one transaction."""
        if not held:
            return []
        waiting = await self.storage.outbox.due_for_chats([chat.id for chat, _, _ in held], self.clock.now())
        prepared: list[_Job] = []
        for chat, messenger, lock in held:
            items = waiting.get(chat.id)
            if items:
                message = await self.prepare(chat, messenger, items)
                if isinstance(message, DeliveryResult):
                    results.append(message)
                else:
                    prepared.append(_Job(chat, messenger, message, lock))
        claimed = await self.storage.outbox.claim_many([(job.message.ids, job.message.batch) for job in prepared])
        complete: list[_Job] = []
        partial: list[_Job] = []
        for job in prepared:
            # a row changed between the read and the claim (an unsubscribe dropped it): give the rest of such
            # a message back; the next pass reads the chat afresh
            (complete if claimed.issuperset(job.message.ids) else partial).append(job)
        await self._release(partial, claimed)
        return complete

    async def _send_loop(
        self, queue: asyncio.Queue[_Job | None], results: list[DeliveryResult], unsent: list[_Job]
    ) -> None:
        while (job := await queue.get()) is not None:
            if self.stopping():
                unsent.append(job)  # not begun: released after the pool ends, so a shutdown repeats nothing
                continue
            try:
                async with self.slots:
                    results.append(await self.sender.send(job.chat, job.messenger, job.message, claimed=True))
            except Exception:  # one chat's trouble never stops the others
                log.exception("delivery to chat %s failed unexpectedly", job.chat.id)
            finally:
                job.lock.release()

    async def _give_back(self, unsent: list[_Job]) -> None:
        try:
            await self._release(unsent)
        finally:
            for job in unsent:
                job.lock.release()

    async def _release(self, jobs: list[_Job], only: set[int] | None = None) -> None:
        """Give the jobs' rows (those in ``only``, if given) back unsent. A resend keeps its batch: its
        earlier attempt may have arrived, and only the same keys let the platform drop the repeat."""
        fresh: list[int] = []
        resent: list[int] = []
        for job in jobs:
            (resent if job.message.resend else fresh).extend(i for i in job.message.ids if only is None or i in only)
        for ids, keep_batch in ((fresh, False), (resent, True)):
            if ids:
                await self.storage.outbox.release(ids, keep_batch=keep_batch)
