"""Sending one claimed outbox message: paced, part by part, and what each platform answer means for its rows.

Rows are claimed (``sending``) before the first part goes out and marked ``sent`` only after the platform
confirmed the last one (:class:`SentMarks` gathers the marks of many chats into one transaction). If marking
fails after the platform confirmed, the mark is retried, never the send.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.core.alerts.pacing import RateLimiter
from bot.core.clock import Clock
from bot.core.messaging import (
    ChatGone,
    ChatMoved,
    MaybeDelivered,
    Messenger,
    OutgoingMessage,
    RetryLater,
    SendError,
    TransientError,
    pacing_key,
)
from bot.core.models import Chat, ChatKey
from bot.services.delivery.marks import SentMarks
from bot.services.delivery.rendering import Rendered
from bot.services.delivery.results import DeliveryResult
from bot.storage.store import Storage

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
# A message the platform refuses for good (not a rate limit, not an outage) is given up after this many tries,
# so one unsendable article cannot block a chat forever; outages are retried without limit.
MAX_REFUSALS = 6

ChatGoneCallback = Callable[[ChatKey, str], Awaitable[None]]
ChatMovedCallback = Callable[[ChatKey, str], Awaitable[None]]


class OutboxSender:
    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        marks: SentMarks,
        kick: Callable[[], None],
        shared_pace: Callable[[str, float], Awaitable[None]] | None = None,
    ) -> None:
        """``shared_pace(platform, rate)`` waits for a slot of the budget all instances share (PostgreSQL)."""
        self._storage = storage
        self._shared_pace = shared_pace
        self._global_rates: dict[str, float] = {}
        self._clock = clock
        self._marks = marks
        self._kick = kick
        self._limiters: dict[str, RateLimiter] = {}
        self._parts_done: dict[tuple[int, tuple[int, ...]], int] = {}  # parts confirmed before a failure
        self._on_chat_gone: ChatGoneCallback | None = None
        self._on_chat_moved: ChatMovedCallback | None = None

    def pace(self, platform: str, limiter: RateLimiter, global_rate: float | None = None) -> None:
        self._limiters[platform] = limiter
        if global_rate is not None:
            self._global_rates[platform] = global_rate

    def on_chat_changes(self, gone: ChatGoneCallback, moved: ChatMovedCallback) -> None:
        self._on_chat_gone, self._on_chat_moved = gone, moved

    async def send(
        self, chat: Chat, messenger: Messenger, message: Rendered, *, claimed: bool = False
    ) -> DeliveryResult:
        """Send one message; its rows are claimed first unless the caller claimed them (in a batch)."""
        if not claimed:
            await self._storage.outbox.mark_sending(list(message.ids), message.batch)
        self._marks.begin()
        try:
            sent = await self._deliver(chat, messenger, message) or DeliveryResult()
        finally:
            self._marks.end()
        if sent.sent_items:
            await self._marks.confirm(list(message.ids))
        return DeliveryResult(sent.sent_items, sent.messages, message.left_over, sent.failed)

    async def _deliver(self, chat: Chat, messenger: Messenger, message: Rendered) -> DeliveryResult | None:
        """Send the parts not yet delivered; None when the chat went away or moved (rows released)."""
        ids, parts = list(message.ids), message.parts
        limiter = self._limiters.get(chat.platform)
        global_rate = self._global_rates.get(chat.platform)
        progress_key = (chat.id, tuple(sorted(ids)))
        first = self._parts_done.pop(progress_key, 0)  # a retry does not repeat parts already delivered
        index = first
        try:
            for index in range(first, len(parts)):
                last = index == len(parts) - 1
                outgoing = OutgoingMessage(
                    parts[index], message.buttons if last else (), idempotency_key=f"{message.batch}.{index}"
                )
                if global_rate is not None and self._shared_pace is not None:
                    await self._shared_pace(chat.platform, global_rate)
                if limiter is not None:
                    # A forum topic is paced with its group: Telegram counts the group's messages.
                    async with limiter.slot(pacing_key(chat.chat_id), chat.is_group):
                        await messenger.send(chat.chat_id, outgoing)
                else:
                    await messenger.send(chat.chat_id, outgoing)
        except ChatMoved as moved:
            await self._storage.outbox.release(ids)
            if self._on_chat_moved is not None:
                await self._on_chat_moved(chat.key, moved.new_chat_id)
            self._kick()
            return None
        except ChatGone as gone:
            await self._storage.outbox.release(ids)
            if self._on_chat_gone is not None:
                await self._on_chat_gone(chat.key, str(gone))
            return None
        except Exception as error:
            if index > first:
                self._parts_done[progress_key] = index
            # Once any part may be in the chat, the retry must be this very message under its keys: folded
            # with other rows into a new batch, what already arrived would arrive again.
            reached = message.resend or index > first or isinstance(error, MaybeDelivered)
            await self._send_failed(chat, ids, error, limiter, keep_batch=reached)
            return DeliveryResult(failed=len(ids))
        return DeliveryResult(sent_items=len(ids), messages=len(parts) - first)

    async def _send_failed(
        self, chat: Chat, ids: list[int], error: Exception, limiter: RateLimiter | None, *, keep_batch: bool
    ) -> None:
        if isinstance(error, RetryLater):
            if limiter is not None:
                limiter.pause(error.seconds)
            await self.failed(ids, str(error), timedelta(seconds=error.seconds), keep_batch=keep_batch)
        elif isinstance(error, TransientError):
            await self.failed(ids, str(error), None, keep_batch=keep_batch)
        elif isinstance(error, SendError):
            await self.failed(ids, str(error), None, permanent=True, keep_batch=keep_batch)
        else:  # a transport bug must not lose the alert: retry later, log loudly
            log.error("chat %s: unexpected send failure", chat.chat_id, exc_info=error)
            await self.failed(ids, f"{type(error).__name__}: {error}", None, permanent=True, keep_batch=keep_batch)

    async def failed(
        self, ids: list[int], error: str, wait: timedelta | None, *, permanent: bool = False, keep_batch: bool = False
    ) -> None:
        """``keep_batch``: (part of) the message may have arrived; the retry resends it under the same batch."""
        attempts = max(await self._storage.outbox.attempts(ids), default=0)
        if permanent and attempts + 1 >= MAX_REFUSALS:
            log.error("giving up on %d alert(s) after %d refusals: %s", len(ids), attempts + 1, error)
            await self._storage.outbox.give_up(ids, error)
            return
        if wait is None:
            base = min(MAX_BACKOFF.total_seconds(), 5.0 * 2**attempts)
            wait = timedelta(seconds=base * random.uniform(0.8, 1.2))  # jitter: no thundering herd
        log.warning("delivery failed for %d alert(s): %s; retry in %.0fs", len(ids), error, wait.total_seconds())
        await self._storage.outbox.mark_failed(ids, error, self._clock.now() + wait, keep_batch=keep_batch)
