"""The outbox worker: sends alerts and digests, paced per platform, never twice, never lost.

A row is claimed (``sending``, with a batch id) before its message goes out and marked ``sent`` only after the
platform confirmed it. Rows found claimed when the process starts were in flight at a crash: they are resent
once with the same batch id, which Matrix turns into the same transaction id, so the homeserver drops the
repeat; on Telegram at most the messages in flight (``concurrency``) can repeat. In a running process a claimed
row is never resent: if marking it sent fails after the platform confirmed, the mark is retried, not the send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

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
    TransientError,
)
from bot.core.models import Article, Chat, ChatKey, Mode, OutboxItem, OutboxStatus
from bot.core.summary import summarize
from bot.storage.store import Storage

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
DEFAULT_CONCURRENCY = 32  # chats served at once; also the most messages a crash can repeat (in flight)
IDLE_WAKE_SECONDS = 60.0  # re-check even without a kick (cheap), so a lost wake-up costs a minute at most
# A message the platform refuses for good (not a rate limit, not an outage) is given up after this many tries,
# so one unsendable article cannot block a chat forever; outages are retried without limit.
MAX_REFUSALS = 6
STOP_GRACE_SECONDS = 10.0
FINGERPRINT_CACHE = 4096
RENDER_CACHE = 1024  # composed alerts per (article, query, reason, language, size limit)

ChatGoneCallback = Callable[[ChatKey, str], Awaitable[None]]
ChatMovedCallback = Callable[[ChatKey, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    sent_items: int = 0
    messages: int = 0
    left_over: int = 0
    failed: int = 0  # rows that could not go out now (they are retried later)


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
        self._engine = engine
        self._clock = clock
        self._digest_cap = digest_cap
        self._bullet_count = summary_bullets
        self._messengers: dict[str, Messenger] = {}
        self._limiters: dict[str, RateLimiter] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._stopping = False
        self._summaries_in_progress: dict[tuple[int, str], asyncio.Future[list[str]]] = {}
        self._fingerprints: OrderedDict[int, str] = OrderedDict()
        self._rendered: OrderedDict[tuple[int, str, str, str, int], list[str]] = OrderedDict()
        self._bullet_cache: OrderedDict[tuple[int, str], list[str]] = OrderedDict()
        self._crash_leftovers: set[int] | None = None  # rows claimed when this process started
        self._confirmed_unmarked: set[int] = set()  # confirmed by the platform, 'sent' mark still to write
        self._parts_done: dict[tuple[int, tuple[int, ...]], int] = {}  # parts confirmed before a failure
        self._on_chat_gone: ChatGoneCallback | None = None
        self._on_chat_moved: ChatMovedCallback | None = None

    # --- wiring -----------------------------------------------------------------------------------------
    def register(self, messenger: Messenger, limiter: RateLimiter | None = None) -> None:
        self._messengers[messenger.platform] = messenger
        if limiter is not None:
            self._limiters[messenger.platform] = limiter

    def serves(self, platform: str) -> bool:
        return platform in self._messengers

    def on_chat_changes(self, gone: ChatGoneCallback, moved: ChatMovedCallback) -> None:
        """Who deactivates a blocked chat and follows a migrated one (the chat life cycle service)."""
        self._on_chat_gone, self._on_chat_moved = gone, moved

    async def start(self) -> None:
        if self._worker is None:
            self._stopping = False
            self._crash_leftovers = set(await self._storage.outbox.claimed_ids())
            if self._crash_leftovers:
                log.warning("%d alert(s) were in flight at the last stop; resending them", len(self._crash_leftovers))
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
        """One pass over every chat that may receive now; one chat's trouble never stops the others."""
        await self._mark_confirmed()
        plans = await self._deliverable(self._clock.now())
        outcomes = await asyncio.gather(
            *(self.deliver_chat(chat, as_digest=p.as_digest, retries_only=p.retries_only) for chat, p in plans),
            return_exceptions=True,
        )
        for (chat, _), outcome in zip(plans, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                log.error("delivery to chat %s failed unexpectedly", chat.id, exc_info=outcome)
        return _sum([o for o in outcomes if isinstance(o, DeliveryResult)])

    async def _deliverable(self, now: datetime) -> list[tuple[Chat, _Plan]]:
        """Chats with due rows, and how to serve them: instant chats outside quiet hours get their alerts;
        otherwise only failed rows whose backoff ran out go out (held and digest rows wait), and rows a
        crash left in flight are finished whatever the mode."""
        ids = await self._storage.outbox.chats_with_due(now)
        chats = await self._storage.chats.get_many(ids)
        plan: list[tuple[Chat, _Plan]] = []
        for chat in chats.values():
            if chat.platform not in self._messengers:
                continue
            if chat.mode is Mode.INSTANT and not self._quiet(chat, now):
                plan.append((chat, _Plan(as_digest=False)))
            elif await self._retry_due(chat, now):
                plan.append((chat, _Plan(as_digest=True, retries_only=True)))
        return plan

    async def _retry_due(self, chat: Chat, now: datetime) -> bool:
        if await self._storage.outbox.has_due_retries(chat.id, now):
            return True
        return bool(self._crash_leftovers) and bool(await self._storage.outbox.in_flight_batches(chat.id))

    async def _mark_confirmed(self) -> None:
        if not self._confirmed_unmarked:
            return
        ids = sorted(self._confirmed_unmarked)
        try:
            await self._storage.outbox.mark_sent(ids, self._clock.now())
        except Exception as exc:
            log.warning("still cannot mark %d delivered alert(s) as sent: %s", len(ids), exc)
            return
        self._confirmed_unmarked.difference_update(ids)

    # --- one chat ---------------------------------------------------------------------------------------
    async def deliver_chat(
        self, chat: Chat, *, as_digest: bool, force: bool = False, retries_only: bool = False
    ) -> DeliveryResult:
        """Send what is waiting for one chat. ``as_digest`` folds everything into one capped digest;
        ``force`` ignores retry times (the user asked with ``digest``); ``retries_only`` sends only rows whose
        earlier attempt failed (and rows a crash left in flight), so held and digest rows keep waiting."""
        lock = self._chat_locks.setdefault(chat.id, asyncio.Lock())
        async with lock, self._slots:
            messenger = self._messengers.get(chat.platform)
            if messenger is None:
                return DeliveryResult()
            await self._mark_confirmed()
            result = await self._finish_crash_leftovers(chat, messenger)
            now = self._clock.now()
            items = await self._storage.outbox.waiting_for_chat(chat.id, None if force else now)
            items = [i for i in items if i.status is not OutboxStatus.SENDING]
            if retries_only:
                items = [i for i in items if i.status is OutboxStatus.FAILED]
            if not items:
                return result
            try:
                if as_digest or len(items) > 1:
                    sent = await self._send_digest(chat, messenger, items)
                else:
                    sent = await self._send_alert(chat, messenger, items[0])
            except Exception as error:  # building the message failed: back off instead of retrying every pass
                log.exception("chat %s: could not prepare %d alert(s)", chat.id, len(items))
                await self._failed([i.id for i in items], f"{type(error).__name__}: {error}", None, permanent=True)
                return _sum([result, DeliveryResult(failed=len(items))])
            return _sum([result, sent])

    async def _finish_crash_leftovers(self, chat: Chat, messenger: Messenger) -> DeliveryResult:
        if not self._crash_leftovers:
            return DeliveryResult()
        results = []
        for batch, ids in (await self._storage.outbox.in_flight_batches(chat.id)).items():
            leftovers = [i for i in ids if i in self._crash_leftovers]
            if not leftovers:
                continue
            self._crash_leftovers.difference_update(leftovers)
            items = [i for i in await self._storage.outbox.waiting_for_chat(chat.id) if i.id in set(leftovers)]
            log.warning("chat %s: resending %d alert(s) interrupted in flight (batch %s)", chat.id, len(items), batch)
            stories = fold_near_duplicates(await self._entries(chat, items))
            html = self._render(chat, stories, as_digest=len(stories) > 1)[0]
            parts = split_message(html, messenger.max_message_chars)
            results.append(await self._send(chat, messenger, parts, [i.id for i in items], batch))
        return _sum(results)

    async def _send_alert(self, chat: Chat, messenger: Messenger, item: OutboxItem) -> DeliveryResult:
        # A fan-out sends the same alert to thousands of chats: compose and split it once.
        key = (item.article_id, item.query, item.reason, labels_for(chat.lang).lang, messenger.max_message_chars)
        parts = self._rendered.get(key)
        if parts is None:
            entries = await self._entries(chat, [item])
            if not entries:
                return DeliveryResult()
            parts = split_message(compose_alert(entries[0], labels_for(chat.lang)), messenger.max_message_chars)
            self._rendered[key] = parts
            if len(self._rendered) > RENDER_CACHE:
                self._rendered.popitem(last=False)
        return await self._send(chat, messenger, parts, [item.id], f"o{item.id}")

    async def _send_digest(self, chat: Chat, messenger: Messenger, items: list[OutboxItem]) -> DeliveryResult:
        stories = fold_near_duplicates(await self._entries(chat, items))
        html, included = self._render(chat, stories, as_digest=True)
        if not included:
            return DeliveryResult()
        batch = f"d{min(included)}-{len(included)}"
        left_over = len(items) - len(included)
        # Under a capped digest, a button fetches the rest (the rows stay pending until then).
        more = ((Button(labels_for(chat.lang).more_button, "digest"),),) if left_over else ()
        parts = split_message(html, messenger.max_message_chars)
        result = await self._send(chat, messenger, parts, included, batch, more)
        return DeliveryResult(result.sent_items, result.messages, left_over, result.failed)

    def _render(self, chat: Chat, stories: list[Story], *, as_digest: bool) -> tuple[str, list[int]]:
        labels = labels_for(chat.lang)
        if not as_digest and len(stories) == 1:
            return compose_alert(stories[0], labels), list(stories[0].outbox_ids)
        # Newest first: when the cap cuts, the older stories wait for the next digest.
        stories = sorted(stories, key=_recency, reverse=True)
        command = "!digest" if chat.platform == "matrix" else "/digest"
        digest = compose_digest(group_by_query(stories), self._digest_cap, labels, command=command)
        return digest.html, list(digest.included_outbox_ids)

    async def _send(
        self,
        chat: Chat,
        messenger: Messenger,
        parts: Sequence[str],
        ids: list[int],
        batch: str,
        buttons: tuple[tuple[Button, ...], ...] = (),
    ) -> DeliveryResult:
        await self._storage.outbox.mark_sending(ids, batch)
        limiter = self._limiters.get(chat.platform)
        progress_key = (chat.id, tuple(sorted(ids)))
        first = self._parts_done.pop(progress_key, 0)  # a retry does not repeat parts already delivered
        index = first
        try:
            for index in range(first, len(parts)):
                last = index == len(parts) - 1
                message = OutgoingMessage(parts[index], buttons if last else (), idempotency_key=f"{batch}.{index}")
                if limiter is not None:
                    async with limiter.slot(chat.chat_id, chat.is_group):
                        await messenger.send(chat.chat_id, message)
                else:
                    await messenger.send(chat.chat_id, message)
        except ChatMoved as moved:
            await self._storage.outbox.release(ids)
            if self._on_chat_moved is not None:
                await self._on_chat_moved(chat.key, moved.new_chat_id)
            self.kick()
            return DeliveryResult()
        except ChatGone as gone:
            await self._storage.outbox.release(ids)
            if self._on_chat_gone is not None:
                await self._on_chat_gone(chat.key, str(gone))
            return DeliveryResult()
        except Exception as error:
            if index > first:
                self._parts_done[progress_key] = index
            await self._send_failed(chat, ids, error, limiter)
            return DeliveryResult(failed=len(ids))
        try:
            await self._storage.outbox.mark_sent(ids, self._clock.now())
        except Exception as exc:  # delivered: remember it, so the mark is retried and the send never is
            log.warning("chat %s: delivered, but marking %d alert(s) sent failed: %s", chat.id, len(ids), exc)
            self._confirmed_unmarked.update(ids)
        return DeliveryResult(sent_items=len(ids), messages=len(parts) - first)

    async def _send_failed(
        self, chat: Chat, ids: list[int], error: Exception, limiter: RateLimiter | None
    ) -> None:
        if isinstance(error, RetryLater):
            if limiter is not None:
                limiter.pause(error.seconds)
            await self._failed(ids, str(error), timedelta(seconds=error.seconds))
        elif isinstance(error, TransientError):
            await self._failed(ids, str(error), None)
        elif isinstance(error, SendError):
            await self._failed(ids, str(error), None, permanent=True)
        else:  # a transport bug must not lose the alert: retry later, log loudly
            log.error("chat %s: unexpected send failure", chat.chat_id, exc_info=error)
            await self._failed(ids, f"{type(error).__name__}: {error}", None, permanent=True)

    async def _failed(self, ids: list[int], error: str, wait: timedelta | None, *, permanent: bool = False) -> None:
        attempts = max(await self._storage.outbox.attempts(ids), default=0)
        if permanent and attempts + 1 >= MAX_REFUSALS:
            log.error("giving up on %d alert(s) after %d refusals: %s", len(ids), attempts + 1, error)
            await self._storage.outbox.give_up(ids, error)
            return
        if wait is None:
            base = min(MAX_BACKOFF.total_seconds(), 5.0 * 2**attempts)
            wait = timedelta(seconds=base * random.uniform(0.8, 1.2))  # jitter: no thundering herd
        log.warning("delivery failed for %d alert(s): %s; retry in %.0fs", len(ids), error, wait.total_seconds())
        await self._storage.outbox.mark_failed(ids, error, self._clock.now() + wait)

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
                    body_fingerprint=self._fingerprint(article),
                )
            )
        return entries

    def _fingerprint(self, article: Article) -> str:
        """Per article, not per chat: a fan-out to thousands of chats computes it once."""
        cached = self._fingerprints.get(article.id)
        if cached is None:
            cached = self._fingerprints[article.id] = fingerprint(article.title, article.body)
            if len(self._fingerprints) > FINGERPRINT_CACHE:
                self._fingerprints.popitem(last=False)
        return cached

    async def bullets(self, article: Article, focus_query: str | None) -> list[str]:
        """Summary bullets, computed once per (article, focus) and cached in SQLite. A fan-out asks for the
        same summary from many chats at once: they share one computation. A summariser failure costs the
        bullets, never the alert."""
        key = (focus_query or "").casefold()
        known = self._bullet_cache.get((article.id, key))
        if known is not None:
            return list(known)
        task = self._summaries_in_progress.get((article.id, key))
        if task is None:
            task = asyncio.ensure_future(self._summarize_once(article, focus_query, key))
            self._summaries_in_progress[(article.id, key)] = task
            task.add_done_callback(lambda _: self._summaries_in_progress.pop((article.id, key), None))
        try:
            bullets = await asyncio.shield(task)
        except Exception:
            log.exception("summary of article %d failed; sending it without bullets", article.id)
            return []
        self._bullet_cache[(article.id, key)] = bullets
        if len(self._bullet_cache) > RENDER_CACHE:
            self._bullet_cache.popitem(last=False)
        return list(bullets)

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
            max_bullets=self._bullet_count,
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


def _recency(story: Story) -> tuple[date, int]:
    return (story.lead.published or date.min, max(story.outbox_ids))


def _sum(results: Sequence[DeliveryResult]) -> DeliveryResult:
    return DeliveryResult(
        sum(r.sent_items for r in results),
        sum(r.messages for r in results),
        sum(r.left_over for r in results),
        sum(r.failed for r in results),
    )
