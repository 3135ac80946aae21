"""The outbox worker: sends alerts and digests, paced per platform, never twice, never lost.

A row is claimed (``sending``, with a batch id) before its message goes out and marked ``sent`` only after the
platform confirmed it. After a crash the claimed rows are resent with the same batch id, which Matrix turns
into the same transaction id, so the homeserver drops the repeat; on Telegram at most the rows that were in
flight (``concurrency`` messages) can repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.alerts.compose import (
    AlertEntry,
    Story,
    compose_alert,
    compose_digest,
    fingerprint,
    fold_near_duplicates,
    group_by_query,
    labels_for,
)
from bot.core.alerts.pacing import RateLimiter
from bot.core.alerts.schedule import in_quiet_hours, quiet_ends_at
from bot.core.alerts.split import split_message
from bot.core.clock import Clock
from bot.core.matching import MatchEngine
from bot.core.messaging import (
    Button,
    ChatGone,
    ChatMoved,
    Messenger,
    OutgoingMessage,
    RetryLater,
    SendError,
)
from bot.core.models import Article, Chat, Mode, OutboxItem
from bot.core.summary import summarize
from bot.storage.store import Storage

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
DEFAULT_CONCURRENCY = 32  # chats served at once; also the most messages a crash can repeat (in flight)
IDLE_WAKE_SECONDS = 60.0  # re-check even without a kick (cheap), so a lost wake-up costs a minute at most


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    sent_items: int = 0
    messages: int = 0
    left_over: int = 0


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
        self._engine = engine
        self._clock = clock
        self._digest_cap = digest_cap
        self._bullets = summary_bullets
        self._messengers: dict[str, Messenger] = {}
        self._limiters: dict[str, RateLimiter] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._stopping = False
        self._summaries_in_progress: dict[tuple[int, str], asyncio.Future[list[str]]] = {}
        self._on_chat_gone: Callable[[Chat], Awaitable[None]] | None = None

    # --- wiring -----------------------------------------------------------------------------------------
    def register(self, messenger: Messenger, limiter: RateLimiter | None = None) -> None:
        self._messengers[messenger.platform] = messenger
        if limiter is not None:
            self._limiters[messenger.platform] = limiter

    def serves(self, platform: str) -> bool:
        return platform in self._messengers

    def on_chat_gone(self, callback: Callable[[Chat], Awaitable[None]]) -> None:
        self._on_chat_gone = callback

    async def start(self) -> None:
        if self._worker is None:
            self._stopping = False
            self._worker = asyncio.create_task(self._run(), name="outbox-worker")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._worker is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None

    def kick(self) -> None:
        """Something new is in the outbox: deliver without waiting for a tick."""
        self._wake.set()

    async def on_enqueued(self) -> None:
        self.kick()

    # --- the worker -------------------------------------------------------------------------------------
    async def _run(self) -> None:
        # Stopping is a flag plus a wake-up rather than a cancel: a pass that is sending finishes and
        # marks what the platform confirmed, so a shutdown repeats nothing.
        while not self._stopping:
            self._wake.clear()
            try:
                await self.run_due()
                timeout = await self._seconds_to_next_wake()
            except Exception:
                log.exception("outbox worker pass failed; retrying shortly")
                timeout = 5.0
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def _seconds_to_next_wake(self) -> float:
        now = self._clock.now()
        if await self._deliverable(now):
            return 0.0  # retries came due (or rows arrived) while the last pass was busy
        candidates = [IDLE_WAKE_SECONDS]
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
        """One pass over every chat that may receive now."""
        jobs = [self.deliver_chat(chat, **how) for chat, how in await self._deliverable(self._clock.now())]
        return _sum(await asyncio.gather(*jobs))

    async def _deliverable(self, now: datetime) -> list[tuple[Chat, dict[str, bool]]]:
        """Chats with due rows, and how to serve them: instant chats outside quiet hours get their alerts;
        in other modes only failed rows whose backoff ran out (as a digest) and rows a crash left in flight
        (whatever the mode) go out; fresh rows there wait for the digest."""
        ids = await self._storage.outbox.chats_with_due(now)
        chats = await self._storage.chats.get_many(ids)
        plan: list[tuple[Chat, dict[str, bool]]] = []
        for chat in chats.values():
            if chat.platform not in self._messengers:
                continue
            if chat.mode is Mode.INSTANT and not self._quiet(chat, now):
                plan.append((chat, {"as_digest": False}))
            elif await self._storage.outbox.has_due_retries(chat.id, now):
                plan.append((chat, {"as_digest": True}))
            elif await self._storage.outbox.in_flight_batches(chat.id):
                plan.append((chat, {"as_digest": True, "in_flight_only": True}))
        return plan

    # --- one chat ---------------------------------------------------------------------------------------
    async def deliver_chat(
        self, chat: Chat, *, as_digest: bool, in_flight_only: bool = False, force: bool = False
    ) -> DeliveryResult:
        """Send what is waiting for one chat. ``as_digest`` folds everything into one capped digest;
        ``force`` ignores retry times (the user asked with ``digest``)."""
        lock = self._chat_locks.setdefault(chat.id, asyncio.Lock())
        async with lock, self._slots:
            messenger = self._messengers.get(chat.platform)
            if messenger is None:
                return DeliveryResult()
            result = await self._resend_in_flight(chat, messenger)
            if in_flight_only:
                return result
            now = self._clock.now()
            items = await self._storage.outbox.waiting_for_chat(chat.id, None if force else now)
            items = [i for i in items if i.status.value != "sending"]
            if not items:
                return result
            if as_digest or len(items) > 1:
                return _sum([result, await self._send_digest(chat, messenger, items)])
            return _sum([result, await self._send_alert(chat, messenger, items[0])])

    async def _resend_in_flight(self, chat: Chat, messenger: Messenger) -> DeliveryResult:
        batches = await self._storage.outbox.in_flight_batches(chat.id)
        results = []
        for batch, ids in batches.items():
            items = [i for i in await self._storage.outbox.waiting_for_chat(chat.id) if i.id in set(ids)]
            log.warning("chat %s: resending %d alert(s) interrupted in flight (batch %s)", chat.id, len(items), batch)
            entries = await self._entries(chat, items)
            stories = fold_near_duplicates(entries)
            html = self._render(chat, stories, as_digest=len(stories) > 1)[0]
            results.append(await self._send(chat, messenger, html, [i.id for i in items], batch))
        return _sum(results)

    async def _send_alert(self, chat: Chat, messenger: Messenger, item: OutboxItem) -> DeliveryResult:
        entries = await self._entries(chat, [item])
        if not entries:
            return DeliveryResult()
        html = compose_alert(entries[0], labels_for(chat.lang))
        return await self._send(chat, messenger, html, [item.id], f"o{item.id}")

    async def _send_digest(self, chat: Chat, messenger: Messenger, items: list[OutboxItem]) -> DeliveryResult:
        entries = await self._entries(chat, items)
        stories = fold_near_duplicates(entries)
        html, included = self._render(chat, stories, as_digest=True)
        if not included:
            return DeliveryResult()
        batch = f"d{min(included)}-{len(included)}"
        left_over = len(items) - len(included)
        # Under a capped digest, a button fetches the rest (the rows stay pending until then).
        more = ((Button(labels_for(chat.lang).more_button, "digest"),),) if left_over else ()
        result = await self._send(chat, messenger, html, included, batch, more)
        return DeliveryResult(result.sent_items, result.messages, left_over)

    def _render(self, chat: Chat, stories: list[Story], *, as_digest: bool) -> tuple[str, list[int]]:
        labels = labels_for(chat.lang)
        if not as_digest and len(stories) == 1:
            return compose_alert(stories[0], labels), list(stories[0].outbox_ids)
        command = "!digest" if chat.platform == "matrix" else "/digest"
        digest = compose_digest(group_by_query(stories), self._digest_cap, labels, command=command)
        return digest.html, list(digest.included_outbox_ids)

    async def _send(
        self,
        chat: Chat,
        messenger: Messenger,
        html: str,
        ids: list[int],
        batch: str,
        buttons: tuple[tuple[Button, ...], ...] = (),
    ) -> DeliveryResult:
        await self._storage.outbox.mark_sending(ids, batch)
        parts = split_message(html, messenger.max_message_chars)
        limiter = self._limiters.get(chat.platform)
        try:
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                message = OutgoingMessage(part, buttons if last else (), idempotency_key=f"{batch}.{index}")
                if limiter is not None:
                    async with limiter.slot(chat.chat_id, chat.is_group):
                        await messenger.send(chat.chat_id, message)
                else:
                    await messenger.send(chat.chat_id, message)
        except ChatMoved as moved:
            await self._storage.chats.move(chat.key, moved.new_chat_id)
            await self._storage.outbox.release(ids)
            log.info("chat %s moved to %s; its alerts follow", chat.chat_id, moved.new_chat_id)
            self.kick()
            return DeliveryResult()
        except ChatGone as gone:
            await self._storage.outbox.release(ids)
            await self._chat_gone(chat, str(gone))
            return DeliveryResult()
        except RetryLater as later:
            if limiter is not None:
                limiter.pause(later.seconds)
            await self._failed(ids, str(later), timedelta(seconds=later.seconds))
            return DeliveryResult()
        except SendError as error:
            await self._failed(ids, str(error), None)
            return DeliveryResult()
        except Exception as error:  # a transport bug must not lose the alert: retry later, log loudly
            log.exception("chat %s: unexpected send failure", chat.chat_id)
            await self._failed(ids, f"{type(error).__name__}: {error}", None)
            return DeliveryResult()
        await self._storage.outbox.mark_sent(ids, self._clock.now())
        return DeliveryResult(sent_items=len(ids), messages=len(parts))

    async def _failed(self, ids: list[int], error: str, wait: timedelta | None) -> None:
        attempts = max(await self._storage.outbox.attempts(ids), default=0)
        if wait is None:
            base = min(MAX_BACKOFF.total_seconds(), 5.0 * 2**attempts)
            wait = timedelta(seconds=base * random.uniform(0.8, 1.2))  # jitter: no thundering herd
        log.warning("delivery failed for %d alert(s): %s; retry in %.0fs", len(ids), error, wait.total_seconds())
        await self._storage.outbox.mark_failed(ids, error, self._clock.now() + wait)

    async def _chat_gone(self, chat: Chat, detail: str) -> None:
        log.info("chat %s/%s is gone (%s): deactivated", chat.platform, chat.chat_id, detail)
        await self._storage.chats.set_active(chat.id, False)
        await self._storage.outbox.drop_chat(chat.id)
        if self._on_chat_gone is not None:
            await self._on_chat_gone(chat)

    # --- article entries --------------------------------------------------------------------------------
    async def _entries(self, chat: Chat, items: list[OutboxItem]) -> list[AlertEntry]:
        articles = {a.id: a for a in await self._storage.articles.get_many([i.article_id for i in items])}
        entries = []
        for item in items:
            article = articles.get(item.article_id)
            if article is None:
                continue
            bullets = await self.bullets(article, item.query)
            entries.append(
                AlertEntry(
                    outbox_ids=(item.id,),
                    article_id=article.id,
                    title=article.title,
                    published=article.published,
                    lang=article.lang,
                    url=article.url,
                    source=article.source,
                    query=item.query,
                    reason=item.reason,
                    bullets=tuple(bullets),
                    body_fingerprint=fingerprint(article.title, article.body),
                )
            )
        return entries

    async def bullets(self, article: Article, focus_query: str | None) -> list[str]:
        """Summary bullets, computed once per (article, focus) and cached in SQLite. A fan-out asks for the
        same summary from many chats at once: they share one computation."""
        key = (focus_query or "").casefold()
        pending = self._summaries_in_progress.get((article.id, key))
        if pending is not None:
            return list(await asyncio.shield(pending))
        task = asyncio.ensure_future(self._summarize_once(article, focus_query, key))
        self._summaries_in_progress[(article.id, key)] = task
        try:
            return list(await asyncio.shield(task))
        finally:
            if task.done():
                self._summaries_in_progress.pop((article.id, key), None)

    async def _summarize_once(self, article: Article, focus_query: str | None, key: str) -> list[str]:
        cached = await self._storage.summaries.get(article.id, key)
        if cached is not None:
            return cached
        focus = self._engine.focus_predicate(focus_query) if focus_query else None
        bullets = await asyncio.to_thread(
            summarize,
            article.body,
            lang=article.lang,
            title=article.title,
            focus=focus,
            max_bullets=self._bullets,
            teaser_only=article.teaser_only,
        )
        await self._storage.summaries.put(article.id, key, bullets, self._clock.now())
        return bullets

    async def flush(self, max_passes: int = 100) -> None:
        """Deliver everything that is due now (console end of input); stops when a pass sends nothing."""
        for _ in range(max_passes):
            result = await self.run_due()
            if result.sent_items == 0:
                return


def _sum(results: list[DeliveryResult]) -> DeliveryResult:
    return DeliveryResult(
        sum(r.sent_items for r in results), sum(r.messages for r in results), sum(r.left_over for r in results)
    )
