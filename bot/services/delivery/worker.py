"""The outbox worker: sends alerts and digests, paced per platform, never twice, never lost.

A row is claimed (``sending``, with a batch id) before its message goes out and marked ``sent`` only after the
platform confirmed it. Instant chats are served in batches (:class:`BatchDelivery`: shared reads, claims and
marks); digests, retries and crash leftovers one chat at a time. Rows found claimed when the process starts
were in flight at a crash: they are resent once with the same batch id, which Matrix turns into the same
transaction id, so the homeserver drops the repeat; on Telegram at most the messages in flight
(``concurrency``) can repeat. In a running process a claimed row is never resent: if marking it sent fails
after the platform confirmed, the mark is retried, not the send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.alerts.pacing import RateLimiter
from bot.core.alerts.schedule import in_quiet_hours, quiet_ends_at
from bot.core.clock import Clock
from bot.core.matching import MatchEngine
from bot.core.messaging import Messenger
from bot.core.models import Article, Chat, Mode, OutboxItem, OutboxStatus
from bot.services.delivery.batches import BatchDelivery
from bot.services.delivery.chat_locks import ChatLocks
from bot.services.delivery.instances import SharedDelivery, delivery_instances
from bot.services.delivery.marks import SentMarks
from bot.services.delivery.rendering import AlertRenderer, Rendered, kept_batches
from bot.services.delivery.results import DeliveryResult, total
from bot.services.delivery.sender import ChatGoneCallback, ChatMovedCallback, OutboxSender
from bot.services.delivery.summary_cache import SummaryCache
from bot.storage.store import Storage

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 32  # chats served at once; also the most messages a crash can repeat (in flight)
IDLE_WAKE_SECONDS = 60.0  # re-check even without a kick (cheap), so a lost wake-up costs a minute at most
STOP_GRACE_SECONDS = 10.0
CLAIM_WAIT_SECONDS = 10.0  # a digest waits this long for a chat another instance is delivering right now


@dataclass(frozen=True, slots=True)
class _Plan:
    as_digest: bool
    retries_only: bool = False


class DeliveryService:
    def __init__(
        self,
        storage: Storage,
        engine: MatchEngine,
        clock: Clock,
        *,
        digest_cap: int = 10,
        summary_bullets: int = 3,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._summaries = SummaryCache(storage, engine, clock, bullet_count=summary_bullets)
        self._renderer = AlertRenderer(storage, self._summaries, digest_cap=digest_cap)
        # Half the senders' confirmations per commit: the other half keep the platform busy meanwhile.
        self._marks = SentMarks(storage, clock, batch=concurrency // 2)
        self._instances = delivery_instances(storage, clock)
        shared_pace = self._instances.pace if self._instances.shared else None  # SQLite: no query per send
        self._sender = OutboxSender(storage, clock, self._marks, self.kick, shared_pace)
        self._messengers: dict[str, Messenger] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._chat_locks = ChatLocks()
        self._batches = BatchDelivery(
            storage,
            clock,
            self._sender,
            self._chat_locks,
            self._slots,
            concurrency=concurrency,
            stopping=lambda: self._stopping,
            serve_one=lambda chat: self.deliver_chat(chat, as_digest=False),
            prepare=lambda chat, messenger, items: self._prepare(chat, messenger, items, as_digest=False),
        )
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._stopping = False
        self._leftovers: dict[int, set[int]] = {}  # per chat, rows claimed when this process started

    # --- wiring -----------------------------------------------------------------------------------------
    def register(
        self, messenger: Messenger, limiter: RateLimiter | None = None, *, global_rate: float | None = None
    ) -> None:
        """``global_rate``: messages/s the platform allows this bot in all, shared by every instance on
        PostgreSQL (the limiter keeps the per-chat and per-group limits, and the rate within the process)."""
        self._messengers[messenger.platform] = messenger
        if limiter is not None:
            self._sender.pace(messenger.platform, limiter, global_rate)

    def unregister(self, platform: str) -> None:
        """Stop delivering to a platform (this instance no longer leads its device); its rows wait."""
        self._messengers.pop(platform, None)

    def serves(self, platform: str) -> bool:
        return platform in self._messengers

    def on_chat_changes(self, gone: ChatGoneCallback, moved: ChatMovedCallback) -> None:
        """Who deactivates a blocked chat and follows a migrated one (the chat life cycle service)."""
        self._sender.on_chat_changes(gone, moved)

    async def start(self) -> None:
        if self._worker is None:
            self._stopping = False
            # Several instances: a row in flight may be another live instance's; leftovers are found per
            # chat when this instance leases it (see _claim_leftovers).
            self._leftovers = {} if self._instances.shared else await self._storage.outbox.claimed_by_chat()
            if self._leftovers:
                count = sum(len(ids) for ids in self._leftovers.values())
                log.warning("%d alert(s) were in flight at the last stop; resending them", count)
            self._worker = asyncio.create_task(self._run(), name="outbox-worker")

    async def stop(self) -> None:
        """Let the current pass finish (so what the platform confirmed is marked sent), within a grace time."""
        self._stopping = True
        self._wake.set()
        if self._worker is not None:
            try:
                async with asyncio.timeout(STOP_GRACE_SECONDS):
                    await asyncio.shield(self._worker)
            except TimeoutError:
                log.warning("delivery did not finish within %.0fs; stopping it", STOP_GRACE_SECONDS)
                self._worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._worker
            self._worker = None
        await self._instances.close()

    def kick(self) -> None:
        """Something new is in the outbox: deliver without waiting for a tick."""
        self._wake.set()

    async def on_enqueued(self) -> None:
        self.kick()

    async def bullets(self, article: Article, focus_query: str | None) -> list[str]:
        """Summary bullets, computed once per (article, focus) and cached in SQLite. A fan-out asks for the
        same summary from many chats at once: they share one computation. A summariser failure costs the
        bullets, never the alert."""
        return await self._summaries.bullets(article, focus_query)

    # --- the worker -------------------------------------------------------------------------------------
    async def _run(self) -> None:
        # Stopping is a flag plus a wake-up rather than a cancel: a pass that is sending finishes and
        # marks what the platform confirmed, so a shutdown repeats nothing.
        while not self._stopping:
            self._wake.clear()
            try:
                result = await self.run_due()
                timeout = await self._seconds_to_next_wake(result)
            except Exception:
                log.exception("outbox worker pass failed; retrying shortly")
                timeout = 5.0
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def _seconds_to_next_wake(self, last: DeliveryResult) -> float:
        now = self._clock.now()
        poll = self._instances.poll_seconds
        if poll is not None and last.sent_items:
            # The last pass sent: more of a fan-out may be waiting. (Not "it claimed chats": digest chats
            # with held rows are claimable on every pass and would keep the worker spinning.)
            return 0.0
        if poll is None and await self._deliverable(now, await self._storage.outbox.chats_with_due(now)):
            return 0.0  # retries came due (or rows arrived) while the last pass was busy
        # Shared outbox: other instances' rows do not kick this one, and due chats may be theirs: poll.
        candidates = [IDLE_WAKE_SECONDS if poll is None else poll]
        retry_at = await self._storage.outbox.next_retry_at(now)
        if retry_at is not None:
            candidates.append((retry_at - now).total_seconds())
        for chat in await self._held_chats(now):
            end = quiet_ends_at(now, chat.timezone, chat.quiet_start, chat.quiet_end)  # type: ignore[arg-type]
            candidates.append((end - now).total_seconds())
        return max(0.01, min(candidates))

    async def _held_chats(self, now: datetime) -> list[Chat]:
        ids = await self._storage.outbox.chats_with_due(now)
        chats = await self._storage.chats.get_many(ids)
        return [c for c in chats.values() if c.mode is Mode.INSTANT and self._quiet(c, now)]

    def _quiet(self, chat: Chat, now: datetime) -> bool:
        if not chat.quiet_start or not chat.quiet_end:
            return False
        return in_quiet_hours(now, chat.timezone, chat.quiet_start, chat.quiet_end)

    async def run_due(self) -> DeliveryResult:
        """One pass over every chat that may receive now; one chat's trouble never stops the others."""
        await self._marks.retry_unmarked()
        now = self._clock.now()
        claimed = await self._instances.claim(now, self._messengers)
        try:
            async with self._instances.renewing():
                if isinstance(self._instances, SharedDelivery):
                    await self._claim_leftovers(self._instances.newly_held)
                return await self._run_plans(await self._deliverable(now, claimed))
        finally:
            await self._instances.release(claimed)

    async def _claim_leftovers(self, claimed: list[int]) -> None:
        """Rows in flight in chats this instance just leased: no live instance is sending them (the lease
        was free, and no pass or digest of this process holds the chat), so a dead instance left them."""
        if claimed:
            chats = set(claimed)
            in_flight = await self._storage.outbox.claimed_by_chat()
            self._leftovers.update({c: ids for c, ids in in_flight.items() if c in chats})

    async def _run_plans(self, plans: list[tuple[Chat, _Plan]]) -> DeliveryResult:
        # Instant chats go out in batches; a crash's leftovers, retries and digests one chat at a time.
        single = [(c, p) for c, p in plans if p.as_digest or c.id in self._leftovers]
        instant = [(c, self._messengers[c.platform]) for c, p in plans if not (p.as_digest or c.id in self._leftovers)]
        outcomes = await asyncio.gather(
            self._batches.run(instant),
            *(self.deliver_chat(chat, as_digest=p.as_digest, retries_only=p.retries_only) for chat, p in single),
            return_exceptions=True,
        )
        for chat, outcome in zip([None, *(c for c, _ in single)], outcomes, strict=True):
            if isinstance(outcome, BaseException):
                where = f"chat {chat.id}" if chat is not None else "a batch of instant chats"
                log.error("delivery to %s failed unexpectedly", where, exc_info=outcome)
        return total(o for o in outcomes if isinstance(o, DeliveryResult))

    async def _deliverable(self, now: datetime, ids: list[int]) -> list[tuple[Chat, _Plan]]:
        """How to serve these chats with due rows: instant chats outside quiet hours get their alerts;
        otherwise only failed rows whose backoff ran out go out (held and digest rows wait), and rows a
        crash left in flight are finished whatever the mode."""
        chats = await self._storage.chats.get_many(ids)
        retries: set[int] | None = None  # asked once per pass, and only when a chat is not instant
        plan: list[tuple[Chat, _Plan]] = []
        for chat in chats.values():
            if chat.platform not in self._messengers:
                continue
            if chat.mode is Mode.INSTANT and not self._quiet(chat, now):
                plan.append((chat, _Plan(as_digest=False)))
                continue
            if retries is None:
                retries = await self._storage.outbox.chats_with_due_retries(now)
            if chat.id in retries or chat.id in self._leftovers:
                plan.append((chat, _Plan(as_digest=True, retries_only=True)))
        return plan

    # --- one chat ---------------------------------------------------------------------------------------
    async def deliver_chat(
        self, chat: Chat, *, as_digest: bool, force: bool = False, retries_only: bool = False
    ) -> DeliveryResult:
        """Send what is waiting for one chat. ``as_digest`` folds everything into one capped digest;
        ``force`` ignores retry times (the user asked with ``digest``); ``retries_only`` sends only rows whose
        earlier attempt failed (and rows a crash left in flight), so held and digest rows keep waiting."""
        async with self._chat_locks.lock(chat.id), self._slots:
            messenger = self._messengers.get(chat.platform)
            if messenger is None:
                return DeliveryResult()
            async with self._instances.holding(chat.id, self._clock, CLAIM_WAIT_SECONDS) as held:
                if not held:
                    log.warning("chat %s: another instance kept delivering it; its rows wait", chat.id)
                    return DeliveryResult()
                return await self._deliver_held(
                    chat, messenger, force=force, as_digest=as_digest, retries_only=retries_only
                )

    async def _deliver_held(
        self, chat: Chat, messenger: Messenger, *, as_digest: bool, force: bool, retries_only: bool
    ) -> DeliveryResult:
        """:meth:`deliver_chat` once this instance holds the chat (its lock, and on PostgreSQL its lease)."""
        await self._marks.retry_unmarked()
        result = await self._finish_crash_leftovers(chat, messenger)
        now = self._clock.now()
        if not (as_digest or force) and chat.mode is Mode.INSTANT and self._quiet(chat, now):
            # Quiet hours began while this send waited for the chat (another pass held it): as a pass that
            # starts now would, send only the retries that came due, and hold the rest.
            as_digest = retries_only = True
        items = await self._storage.outbox.waiting_for_chat(chat.id, None if force else now)
        items = [i for i in items if i.status is not OutboxStatus.SENDING]
        if retries_only:
            items = [i for i in items if i.status is OutboxStatus.FAILED]
        if not items:
            return result
        return total([result, await self._prepare_and_send(chat, messenger, items, as_digest)])

    async def _prepare_and_send(
        self, chat: Chat, messenger: Messenger, items: list[OutboxItem], as_digest: bool
    ) -> DeliveryResult:
        """Earlier sends that may have arrived go out again first, each as itself; then the rest."""
        kept, rest = kept_batches(items)
        results = [await self._send_prepared(chat, messenger, rows, as_digest) for _, rows in kept]
        if rest:
            results.append(await self._send_prepared(chat, messenger, rest, as_digest))
        return total(results)

    async def _send_prepared(
        self, chat: Chat, messenger: Messenger, items: list[OutboxItem], as_digest: bool
    ) -> DeliveryResult:
        message = await self._prepare(chat, messenger, items, as_digest=as_digest)
        if isinstance(message, DeliveryResult):
            return message
        return await self._sender.send(chat, messenger, message)

    async def _prepare(
        self, chat: Chat, messenger: Messenger, items: Sequence[OutboxItem], *, as_digest: bool
    ) -> Rendered | DeliveryResult:
        """The message for these rows, or what became of them when there is none to send. An earlier send
        that may have arrived goes first, as it was (a fan-out pass sends the chat's other rows next pass)."""
        kept, _ = kept_batches(items)
        if kept:
            items = kept[0][1]
        try:
            if kept:
                message: Rendered | None = await self._renderer.resend(chat, messenger, items, kept[0][0])
            elif as_digest or len(items) > 1:
                message = await self._renderer.digest(chat, messenger, items)
            else:
                message = await self._renderer.alert(chat, messenger, items[0])
        except Exception as error:  # building the message failed: back off instead of retrying every pass
            log.exception("chat %s: could not prepare %d alert(s)", chat.id, len(items))
            await self._sender.failed([i.id for i in items], f"{type(error).__name__}: {error}", None, permanent=True)
            return DeliveryResult(failed=len(items))
        return DeliveryResult() if message is None else message

    async def _finish_crash_leftovers(self, chat: Chat, messenger: Messenger) -> DeliveryResult:
        leftover = self._leftovers.pop(chat.id, None)
        if not leftover:
            return DeliveryResult()
        results = []
        for batch, ids in (await self._storage.outbox.in_flight_batches(chat.id)).items():
            wanted = leftover.intersection(ids)
            if not wanted:
                continue
            items = [i for i in await self._storage.outbox.waiting_for_chat(chat.id) if i.id in wanted]
            log.warning("chat %s: resending %d alert(s) interrupted in flight (batch %s)", chat.id, len(items), batch)
            message = await self._renderer.resend(chat, messenger, items, batch)
            results.append(await self._sender.send(chat, messenger, message))
        return total(results)

    async def flush(self, max_passes: int = 100) -> None:
        """Deliver everything that is due now (console end of input); stops when a pass sends nothing."""
        for _ in range(max_passes):
            result = await self.run_due()
            if result.sent_items == 0:
                return
