"""Polling feeds: what is due, which items are new or changed, which of them alert, and recording every
outcome on the feed row, so a broken feed ends as a visible ``last_error`` (and eventually a disabled
feed), never as a crash."""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.core.clock import Clock
from bot.core.feeds import (
    UnsafeUrl,
    backoff_seconds,
    check_feed_url,
    is_substantial_change,
    item_fingerprint,
    item_key,
    parse_cache_max_age,
    poll_interval,
)
from bot.core.feeds.results import FeedError, PollResult
from bot.core.i18n import Translator
from bot.core.ingest import ParsedItem
from bot.core.models import ArticleDraft, Feed, IngestReport
from bot.services.feeds.documents import FeedDocument, clean_title, parse_document
from bot.services.feeds.fulltext import FullTextFetcher
from bot.services.feeds.http import PER_HOST_LIMIT, TOTAL_LIMIT, FeedFetcher, Fetched, FetchError
from bot.storage.feeds import FeedItemState, FeedRepository, FetchedState
from config.settings import FeedSettings

if TYPE_CHECKING:
    from bot.services.ingest import IngestService

log = logging.getLogger(__name__)

# Items no longer listed by their feed are forgotten after this long, so feed_items does not grow forever.
# Should one reappear later it is recognised by the archive's content hash and does not alert again.
FORGET_UNLISTED_AFTER = timedelta(days=30)

NotifyAdmins = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PollerParts:
    """What the poller works with; built once by :class:`~bot.services.feeds.FeedService`."""

    repo: FeedRepository
    settings: FeedSettings
    ingest: IngestService
    clock: Clock
    fetcher: FeedFetcher
    notify_admins: NotifyAdmins
    translator: Translator
    rng: random.Random


@dataclass(slots=True)
class _Candidate:
    """A feed item that will be stored: new, or known with changed text."""

    item: ParsedItem
    draft: ArticleDraft
    key: str
    fingerprint: str
    alert: bool
    changed: bool
    previous_article: int | None = None


class FeedPoller:
    """Polls due feeds a few at a time per host and hands new items to :class:`IngestService`."""

    def __init__(self, parts: PollerParts) -> None:
        self._repo = parts.repo
        self._settings = parts.settings
        self._ingest = parts.ingest
        self._clock = parts.clock
        self._fetcher = parts.fetcher
        self._notify_admins = parts.notify_admins
        self._t = parts.translator
        self._rng = parts.rng
        self._full_text = FullTextFetcher(parts.fetcher, parts.settings.fetch_full_text)
        self._next_due: datetime | None = None
        self._in_flight: set[int] = set()
        self._host_limits: dict[str, asyncio.Semaphore] = {}
        self._total_limit = asyncio.Semaphore(TOTAL_LIMIT)

    def next_due_at(self) -> datetime | None:
        """When the next enabled feed is due (as of the last change this service made)."""
        return self._next_due

    async def poll_due(self) -> None:
        """Poll every enabled feed that is due, a few at a time per host; never raises for a feed's sake."""
        due = await self._repo.due(self._clock.now())
        await asyncio.gather(*(self._poll_politely(feed) for feed in due))
        await self._refresh_next_due()

    async def poll(self, feed: Feed) -> PollResult:
        """Fetch one feed and ingest what is new; every failure ends as a recorded ``last_error``."""
        if feed.id in self._in_flight:
            return PollResult(feed.id, "skipped")
        self._in_flight.add(feed.id)
        try:
            return await self._poll(feed)
        except Exception as exc:
            # A bug or a storage hiccup must cost this feed one backoff step, not stop the other feeds.
            log.exception("polling feed %s failed unexpectedly", feed.url)
            return await self._failed(feed, FetchError(f"internal error ({exc.__class__.__name__})"))
        finally:
            self._in_flight.discard(feed.id)

    async def fetch_items(self, url: str) -> builtins.list[ParsedItem]:
        """Fetch and parse one feed URL once, without storing anything (``newsalert ingest URL``).
        Raises :class:`FeedError` with the reason (not repeating the URL) when the URL is refused or the
        feed cannot be read."""
        try:
            url = check_feed_url(url)
            fetched = await self._fetcher.fetch(url)
        except (UnsafeUrl, FetchError) as exc:
            raise FeedError(str(exc)) from None
        document = await self._parse(fetched, url)
        if document.error:
            raise FeedError(document.error)
        return await self._full_text.fill_items([item for item, _ in document.items])

    async def _poll_politely(self, feed: Feed) -> None:
        host = (urlsplit(feed.url).hostname or "").lower()
        limit = self._host_limits.setdefault(host, asyncio.Semaphore(PER_HOST_LIMIT))
        try:
            async with self._total_limit, limit:
                await self.poll(feed)
        except Exception:
            log.exception("could not record the poll of feed %s", feed.url)

    async def _poll(self, feed: Feed) -> PollResult:
        try:
            fetched = await self._fetcher.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
        except FetchError as exc:
            return await self._failed(feed, exc)
        if fetched.not_modified:
            return await self._not_modified(feed, fetched)
        document = await self._parse(fetched, feed.url)
        if document.error:
            return await self._failed(feed, FetchError(document.error))
        return await self._ingest_document(feed, fetched, document)

    async def _not_modified(self, feed: Feed, fetched: Fetched) -> PollResult:
        interval = poll_interval(
            self._settings.poll_seconds, None, parse_cache_max_age(fetched.cache_control)
        )
        await self._repo.record_not_modified(
            feed.id, now=self._clock.now(), poll_seconds=interval, next_poll_at=self._after(interval)
        )
        return PollResult(feed.id, "not_modified")

    async def _ingest_document(self, feed: Feed, fetched: Fetched, document: FeedDocument) -> PollResult:
        candidates, listed = await self._classify(feed, document.items)
        reports = await self._store(candidates)
        max_age = parse_cache_max_age(fetched.cache_control)
        interval = poll_interval(self._settings.poll_seconds, document.ttl, max_age)
        fetched_state = FetchedState(
            title=clean_title(document.title),
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            poll_seconds=interval,
            next_poll_at=self._after(interval),
        )
        now = self._clock.now()
        await self._repo.record_fetch(
            feed.id,
            now=now,
            state=fetched_state,
            items=_states_after_store(candidates, reports),
            listed=listed,
            forget_before=now - FORGET_UNLISTED_AFTER,
        )
        result = PollResult(
            feed.id,
            "ok",
            new=sum(r.count("new") for r in reports.values()),
            updated=sum(1 for c in candidates if c.changed),
            alerted=sum(1 for c in candidates if c.alert),
        )
        log.info(
            "feed %s: %d items, %d new, %d updated", feed.url, len(document.items), result.new, result.updated
        )
        return result

    async def _parse(self, fetched: Fetched, source: str) -> FeedDocument:
        """Parse and build drafts in a worker thread: feedparser on a big feed and language detection
        are seconds of CPU that must not stall the event loop (and with it every chat)."""
        return await asyncio.to_thread(
            parse_document, fetched.body, source, fetched.content_type, fetched.link_base()
        )

    async def _classify(
        self, feed: Feed, items: Sequence[tuple[ParsedItem, datetime | None]]
    ) -> tuple[builtins.list[_Candidate], builtins.list[str]]:
        """The items to store (new or changed), each with whether it alerts, and every item key listed."""
        keyed: dict[str, tuple[ParsedItem, ArticleDraft, datetime | None]] = {}
        for item, published in items:
            if item.draft is None:
                continue
            key = item_key(item.draft.guid, item.draft.url, item.draft.title)
            if key is not None and key not in keyed:  # a feed listing one item twice: the first wins
                keyed[key] = (item, item.draft, published)
        known = await self._repo.item_states(feed.id, list(keyed))
        cutoff = self._clock.now() - timedelta(hours=self._settings.backfill_hours)
        candidates: builtins.list[_Candidate] = []
        for key, (item, draft, published) in keyed.items():
            fingerprint = item_fingerprint(draft.title, draft.body)
            previous = known.get(key)
            if previous is not None and previous.fingerprint == fingerprint:
                continue
            # The first poll archives the feed's history quietly: only recent items alert (no flood).
            # Undated items count as old there: nothing says they are news.
            fresh = feed.first_poll_done or (published is not None and published >= cutoff)
            if previous is None:
                candidates.append(_Candidate(item, draft, key, fingerprint, alert=fresh, changed=False))
                continue
            substantial = is_substantial_change(previous.title, previous.body, draft.title, draft.body)
            candidates.append(
                _Candidate(item, draft, key, fingerprint, fresh and substantial, True, previous.article_id)
            )
        return candidates, list(keyed)

    async def _store(self, candidates: Sequence[_Candidate]) -> dict[bool, IngestReport]:
        """Hand the candidates to ingest in two batches, alerting and quiet; sources are made unique so each
        outcome can be traced back to its item."""
        for candidate, draft in zip(
            candidates, await self._full_text.fill_drafts([c.draft for c in candidates]), strict=True
        ):
            candidate.draft = draft
        reports: dict[bool, IngestReport] = {}
        for alert in (True, False):
            batch = [
                dataclasses.replace(c.item, draft=c.draft, source=_candidate_source(c))
                for c in candidates
                if c.alert is alert
            ]
            if batch:
                reports[alert] = await self._ingest.ingest_items(batch, alert=alert)
        return reports

    async def _failed(self, feed: Feed, error: FetchError) -> PollResult:
        message = str(error)
        delay = backoff_seconds(
            feed.failures + 1, self._settings.poll_seconds, self._rng, retry_after=error.retry_after
        )
        max_failures = 1 if error.gone else self._settings.max_failures
        updated = await self._repo.record_failure(
            feed.id, error=message, next_poll_at=self._after(delay), max_failures=max_failures
        )
        if updated is None:  # removed while it was being polled
            return PollResult(feed.id, "failed", error=message)
        log.warning("feed %s failed (%d in a row): %s", feed.url, updated.failures, message)
        if not updated.enabled and feed.enabled:
            await self._tell_admins(self._disabled_notice(feed, updated.failures, message))
            return PollResult(feed.id, "disabled", error=message)
        return PollResult(feed.id, "failed", error=message)

    def _disabled_notice(self, feed: Feed, failures: int, error: str) -> str:
        t = self._t
        return t.plural(
            "Feed disabled after {n} failed attempt: {title}\n{url}\nLast error: {error}\n"
            "Add it again with addfeed to retry.",
            "Feed disabled after {n} failed attempts: {title}\n{url}\nLast error: {error}\n"
            "Add it again with addfeed to retry.",
            failures,
            title=feed.title or feed.url,
            url=feed.url,
            error=error,
        )

    async def _tell_admins(self, text: str) -> None:
        try:
            await self._notify_admins(text)
        except Exception:  # an unreachable admin must not stop polling
            log.exception("could not notify admins")

    def _after(self, seconds: float) -> datetime:
        return self._clock.now() + timedelta(seconds=seconds)

    async def _refresh_next_due(self) -> None:
        self._next_due = await self._repo.next_due_at()


def _candidate_source(candidate: _Candidate) -> str:
    return f"{candidate.item.source} [{candidate.key}]"


def _states_after_store(
    candidates: list[_Candidate], reports: dict[bool, IngestReport]
) -> list[FeedItemState]:
    """Feed-item rows for the stored candidates, with the article each became (when ingest stored it)."""
    article_by_source = {
        o.source: o.article_id
        for report in reports.values()
        for o in report.outcomes
        if o.article_id is not None
    }
    states = []
    for c in candidates:
        article_id = article_by_source.get(_candidate_source(c), c.previous_article)
        original = c.item.draft or c.draft
        states.append(FeedItemState(c.key, c.fingerprint, article_id, original.title, original.body))
    return states
