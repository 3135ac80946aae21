"""Polling RSS/Atom/JSON feeds politely and safely, and feeding new items into the ingest pipeline.

Two parts: :class:`FeedFetcher`, the one shared HTTP client that enforces the safety rules (schemes, resolved
addresses on every hop, redirects, size cap, deadline), and :class:`FeedService`, which decides what is due,
which items are new or changed, which of them alert, and records every outcome on the feed row so a broken
feed ends as a visible ``last_error`` (and eventually a disabled feed), never as a crash.
"""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
import logging
import random
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from bot.core.clock import Clock
from bot.core.feeds import (
    OpmlError,
    OpmlFeed,
    UnsafeUrl,
    address_refusal,
    backoff_seconds,
    check_feed_url,
    export_opml,
    is_substantial_change,
    item_fingerprint,
    item_key,
    literal_address,
    parse_cache_max_age,
    parse_opml,
    parse_retry_after,
    poll_interval,
)
from bot.core.feeds.results import FeedError, FeedExists, OpmlImport, PollResult
from bot.core.feeds.urls import IPAddress
from bot.core.ingest import FeedParse, ParsedItem, parse_feed_bytes
from bot.core.models import ArticleDraft, Feed, IngestReport
from bot.storage.feeds import FeedItemState, FeedRepository, FetchedState
from bot.storage.store import Storage
from config.settings import FeedSettings

if TYPE_CHECKING:
    from bot.services.ingest import IngestService

log = logging.getLogger(__name__)

USER_AGENT = "newsalert/0.1 (feed reader; +https://github.com/newsalert)"
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9,"
    " application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PER_HOST_LIMIT = 2  # politeness: never more than two requests at once to one server
TOTAL_LIMIT = 8
READ_CHUNK = 64 * 1024
# Full-text fetching costs one request per item; a first poll of a 100-item feed should not turn into a
# burst of 100 page loads, so beyond this many the remaining items keep their teaser.
MAX_FULL_TEXT_PER_POLL = 20
# Items no longer listed by their feed are forgotten after this long, so feed_items does not grow forever.
# Should one reappear later it is recognised by the archive's content hash and does not alert again.
FORGET_UNLISTED_AFTER = timedelta(days=30)

AddressPolicy = Callable[[IPAddress], "str | None"]
NotifyAdmins = Callable[[str], Awaitable[None]]


class UnsafeAddressError(OSError):
    """Raised inside the connector when a host name resolves to a refused address."""


class FetchError(Exception):
    """One fetch failed; ``retry_after`` carries a server's ``Retry-After``, ``gone`` a 410."""

    def __init__(self, message: str, *, retry_after: float | None = None, gone: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.gone = gone


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # after redirects
    not_modified: bool
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    cache_control: str | None = None
    content_type: str | None = None


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


class GuardedResolver(AbstractResolver):
    """The connector's DNS resolver: refuses the connection when *any* resolved address is refused.

    Checking at connection time (not only before the request) means a host cannot pass the check with a
    public address and then be connected to a private one by a second, different DNS answer.
    """

    def __init__(self, policy: AddressPolicy) -> None:
        self._inner = ThreadedResolver()
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            address = literal_address(result["host"])
            why = self._policy(address) if address is not None else f"unusable address {result['host']!r}"
            if why:
                raise UnsafeAddressError(f"refused {host}: {why}")
        return results

    async def close(self) -> None:
        await self._inner.close()


class FeedFetcher:
    """One shared aiohttp session with the safety rules; created by :meth:`start`, closed by :meth:`close`."""

    def __init__(self, settings: FeedSettings, policy: AddressPolicy | None = None) -> None:
        self._settings = settings
        self._policy: AddressPolicy = policy or (
            lambda address: address_refusal(address, allow_private=settings.allow_private_hosts)
        )
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is not None:
            return
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(self._policy), limit=TOTAL_LIMIT, limit_per_host=PER_HOST_LIMIT
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": USER_AGENT},
            timeout=aiohttp.ClientTimeout(total=self._settings.timeout_seconds),
            cookie_jar=aiohttp.DummyCookieJar(),  # no state shared between unrelated feeds
            trust_env=False,  # environment proxies would bypass the address checks
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def check_host(self, url: str) -> None:
        """Resolve the URL's host now and raise :class:`FetchError` if it is refused or unknown, so an admin
        hears about a typo or an internal address when adding the feed, not at the first poll."""
        host = urlsplit(url).hostname or ""
        literal = literal_address(host)
        if literal is not None:
            self._refuse_literal(literal)
            return
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._settings.timeout_seconds):
                infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except TimeoutError:
            raise FetchError(f"cannot resolve host {host!r} (no answer in time)") from None
        except (OSError, UnicodeError) as exc:
            raise FetchError(f"cannot resolve host {host!r} ({exc})") from None
        for info in infos:
            address = literal_address(str(info[4][0]))
            why = self._policy(address) if address is not None else "unusable address"
            if why:
                raise FetchError(f"refused {host}: {why}")

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = FEED_ACCEPT,
    ) -> Fetched:
        """GET with conditional headers, following at most :data:`MAX_REDIRECTS` checked redirects, within
        one overall deadline (slow servers), reading at most ``max_bytes`` (huge feeds, gzip bombs)."""
        if self._session is None:
            raise RuntimeError("FeedFetcher.start() was not called")
        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        timeout = self._settings.timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                return await self._follow(self._session, url, headers)
        except TimeoutError:
            raise FetchError(f"no complete answer within {timeout:g} seconds") from None
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, UnsafeAddressError):
                raise FetchError(str(exc.os_error)) from None
            why = exc.os_error.strerror or str(exc.os_error) or exc.__class__.__name__
            raise FetchError(f"cannot connect to {exc.host}: {why}") from None
        except aiohttp.ClientPayloadError as exc:
            raise FetchError(f"broken response body ({_first_line(exc)})") from None
        except aiohttp.ClientError as exc:
            raise FetchError(f"HTTP request failed ({_first_line(exc) or exc.__class__.__name__})") from None

    async def _follow(self, session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> Fetched:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            self._check_hop(current)
            async with session.get(current, headers=headers, allow_redirects=False) as resp:
                if resp.status in REDIRECT_STATUSES:
                    current = _redirect_target(resp)
                    continue
                if resp.status == 304:
                    return Fetched(
                        current, not_modified=True, cache_control=resp.headers.get("Cache-Control")
                    )
                if resp.status != 200:
                    raise _status_error(resp)
                body = await self._read_capped(resp)
                return Fetched(
                    current,
                    not_modified=False,
                    body=body,
                    etag=resp.headers.get("ETag"),
                    last_modified=resp.headers.get("Last-Modified"),
                    cache_control=resp.headers.get("Cache-Control"),
                    content_type=resp.headers.get("Content-Type"),
                )
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")

    def _check_hop(self, url: str) -> None:
        """Scheme and IP-literal check for each hop; names are checked by :class:`GuardedResolver` (the
        connector skips the resolver for IP literals, so they must be checked here)."""
        try:
            check_feed_url(url)
        except UnsafeUrl as exc:
            raise FetchError(f"refused {url[:200]}: {exc}") from None
        literal = literal_address(urlsplit(url).hostname or "")
        if literal is not None:
            self._refuse_literal(literal)

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` must not be contacted, or ``None``."""
        return self._policy(address)

    def _refuse_literal(self, address: IPAddress) -> None:
        why = self._policy(address)
        if why:
            raise FetchError(f"refused: {why}")

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        limit = self._settings.max_bytes
        if resp.content_length is not None and resp.content_length > limit:
            raise FetchError(f"response larger than {limit} bytes ({resp.content_length} announced)")
        chunks: list[bytes] = []
        size = 0
        # Counted after decompression, so a small gzip that inflates to gigabytes stops here too.
        async for chunk in resp.content.iter_chunked(READ_CHUNK):
            size += len(chunk)
            if size > limit:
                raise FetchError(f"response larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def _redirect_target(resp: aiohttp.ClientResponse) -> str:
    location = resp.headers.get("Location")
    if not location:
        raise FetchError(f"HTTP {resp.status} redirect without a Location header")
    try:
        return str(resp.url.join(URL(location)))
    except (ValueError, TypeError):
        raise FetchError(f"redirect to an invalid URL: {location[:200]!r}") from None


def _status_error(resp: aiohttp.ClientResponse) -> FetchError:
    reason = f"HTTP {resp.status} {resp.reason or ''}".strip()
    if resp.status == 410:
        return FetchError(f"{reason}: the feed was removed by its publisher", gone=True)
    retry_after = None
    if resp.status in (429, 503):
        retry_after = parse_retry_after(resp.headers.get("Retry-After"), _http_now())
    return FetchError(reason, retry_after=retry_after)


def _http_now() -> datetime:
    """``Retry-After`` dates are absolute server time; compare them with real time, not the app clock."""
    return datetime.now().astimezone()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""


class FeedService:
    """Adds, lists, removes and polls feeds; hands new items to :class:`IngestService`."""

    def __init__(
        self,
        storage: Storage,
        settings: FeedSettings,
        ingest: IngestService,
        clock: Clock,
        notify_admins: NotifyAdmins,
        *,
        address_policy: AddressPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._repo = FeedRepository(storage.db)
        self._settings = settings
        self._ingest = ingest
        self._clock = clock
        self._notify_admins = notify_admins
        self._fetcher = FeedFetcher(settings, address_policy)
        self._rng = rng or random.Random()
        self._next_due: datetime | None = None
        self._in_flight: set[int] = set()
        self._host_limits: dict[str, asyncio.Semaphore] = {}
        self._total_limit = asyncio.Semaphore(TOTAL_LIMIT)

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def start(self) -> None:
        await self._fetcher.start()
        await self._refresh_next_due()

    async def close(self) -> None:
        await self._fetcher.close()

    # -- admin operations --------------------------------------------------------------------------------

    async def add(self, url: str, added_by: str) -> Feed:
        """Validate and store the feed, then poll it at once. A disabled feed added again is re-enabled.
        Raises :class:`FeedError` for a bad or refused URL, :class:`FeedExists` for an active duplicate."""
        try:
            url = check_feed_url(url)
        except UnsafeUrl as exc:
            raise FeedError(str(exc)) from None
        try:
            await self._fetcher.check_host(url)
        except FetchError as exc:
            raise FeedError(str(exc)) from None
        now = self._clock.now()
        try:
            feed = await self._repo.add(
                url, poll_seconds=self._settings.poll_seconds, now=now, added_by=added_by
            )
        except FeedExists as exc:
            if exc.feed.enabled:
                raise
            await self._repo.enable(exc.feed.id, now=now)
            feed = await self._require(exc.feed.id)
        await self.poll(feed)
        await self._refresh_next_due()
        return await self._require(feed.id)

    async def list(self) -> builtins.list[Feed]:
        return await self._repo.all()

    async def remove(self, position: int) -> Feed | None:
        """Remove the feed at 1-based ``position`` of :meth:`list`; ``None`` if there is no such feed.
        Its stored articles stay in the archive."""
        feeds = await self._repo.all()
        if not 1 <= position <= len(feeds):
            return None
        feed = feeds[position - 1]
        await self._repo.delete(feed.id)
        await self._refresh_next_due()
        return feed

    async def import_opml(self, data: bytes) -> OpmlImport:
        """Add every feed of an OPML file. They are due at once, so the scheduler's next :meth:`poll_due`
        fetches them with the usual per-host limits instead of a burst here."""
        try:
            entries = await asyncio.to_thread(parse_opml, data)
        except OpmlError as exc:
            raise FeedError(str(exc)) from None
        result = OpmlImport()
        now = self._clock.now()
        for entry in entries:
            try:
                url = check_feed_url(entry.url)
                literal = literal_address(urlsplit(url).hostname or "")
                why = self._fetcher.refusal(literal) if literal is not None else None
                if why:
                    raise UnsafeUrl(why)
            except UnsafeUrl as exc:
                result.rejected.append((entry.url, str(exc)))
                continue
            title = entry.title if entry.title and entry.title != url else None
            try:
                feed = await self._repo.add(
                    url, poll_seconds=self._settings.poll_seconds, now=now, added_by="opml", title=title
                )
            except FeedExists:
                result.existing.append(url)
                continue
            result.added.append(feed)
        await self._refresh_next_due()
        return result

    async def export_opml(self) -> bytes:
        feeds = await self._repo.all()
        return export_opml([OpmlFeed(f.url, f.title) for f in feeds], created=self._clock.now())

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
        return await self._with_full_text([item for item, _ in document.items])

    # -- polling -----------------------------------------------------------------------------------------

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

    async def _ingest_document(self, feed: Feed, fetched: Fetched, document: _Document) -> PollResult:
        candidates, listed = await self._classify(feed, document.items)
        reports = await self._store(candidates)
        max_age = parse_cache_max_age(fetched.cache_control)
        interval = poll_interval(self._settings.poll_seconds, document.ttl, max_age)
        fetched_state = FetchedState(
            title=_clean_title(document.title),
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            poll_seconds=interval,
            next_poll_at=self._after(interval),
        )
        states = _states_after_store(candidates, reports)
        now = self._clock.now()
        await self._repo.record_fetch(
            feed.id,
            now=now,
            state=fetched_state,
            items=states,
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

    async def _parse(self, fetched: Fetched, source: str) -> _Document:
        """Parse and build drafts in a worker thread: feedparser on a big feed and language detection
        are seconds of CPU that must not stall the event loop (and with it every chat)."""
        return await asyncio.to_thread(_parse_document, fetched.body, source, fetched.content_type)

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
        await self._fill_full_text(candidates)
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

    async def _fill_full_text(self, candidates: Sequence[_Candidate]) -> None:
        if not self._settings.fetch_full_text:
            return
        teasers = [c for c in candidates if c.draft.teaser_only and c.draft.url][:MAX_FULL_TEXT_PER_POLL]
        for candidate in teasers:
            candidate.draft = await self._full_text(candidate.draft)

    async def _with_full_text(self, items: Sequence[ParsedItem]) -> builtins.list[ParsedItem]:
        if not self._settings.fetch_full_text:
            return [*items]
        budget = MAX_FULL_TEXT_PER_POLL
        result = []
        for item in items:
            if item.draft is not None and item.draft.teaser_only and item.draft.url and budget > 0:
                budget -= 1
                item = dataclasses.replace(item, draft=await self._full_text(item.draft))
            result.append(item)
        return result

    async def _full_text(self, draft: ArticleDraft) -> ArticleDraft:
        """The linked page's main text when it is longer than the teaser; the teaser when anything fails."""
        assert draft.url is not None
        try:
            page = await self._fetcher.fetch(draft.url, accept=PAGE_ACCEPT)
            text = await asyncio.to_thread(_extract_main_text, page.body, page.url)
        except FetchError as exc:
            log.info("full text of %s not fetched: %s", draft.url, exc)
            return draft
        except Exception:
            log.warning("full text of %s could not be extracted", draft.url, exc_info=True)
            return draft
        if not text or len(text) <= len(draft.body):
            return draft
        return dataclasses.replace(draft, body=text, teaser_only=False)

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
            await self._tell_admins(
                f"Feed disabled after {updated.failures} failed attempt(s): {feed.title or feed.url}\n"
                f"{feed.url}\nLast error: {message}\nAdd it again with addfeed to retry."
            )
            return PollResult(feed.id, "disabled", error=message)
        return PollResult(feed.id, "failed", error=message)

    async def _tell_admins(self, text: str) -> None:
        try:
            await self._notify_admins(text)
        except Exception:  # an unreachable admin must not stop polling
            log.exception("could not notify admins")

    # -- helpers -----------------------------------------------------------------------------------------

    def _after(self, seconds: float) -> datetime:
        return self._clock.now() + timedelta(seconds=seconds)

    async def _require(self, feed_id: int) -> Feed:
        feed = await self._repo.get(feed_id)
        if feed is None:
            raise FeedError("the feed was removed meanwhile")
        return feed

    async def _refresh_next_due(self) -> None:
        self._next_due = await self._repo.next_due_at()


@dataclass(frozen=True, slots=True)
class _Document:
    title: str | None
    ttl: int | None
    error: str | None
    items: list[tuple[ParsedItem, datetime | None]]  # each draft with its entry's exact publication time


def _parse_document(body: bytes, source: str, content_type: str | None) -> _Document:
    """Blocking: parse the feed and build its drafts (the parser never raises; see ``FeedParse.error``)."""
    parsed: FeedParse = parse_feed_bytes(body, source=source, content_type=content_type)
    if parsed.error:
        return _Document(parsed.title, parsed.ttl, parsed.error, [])
    # drafts() yields one item per entry, in entry order.
    drafts = parsed.drafts()
    published = [entry.published for entry in parsed.items]
    return _Document(parsed.title, parsed.ttl, None, list(zip(drafts, published, strict=True)))


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


def _clean_title(title: object) -> str | None:
    if not isinstance(title, str):
        return None
    text = " ".join(title.split())
    return text[:200] or None


def _extract_main_text(html: bytes, url: str) -> str | None:
    """trafilatura's main-text extraction (CPU-bound: run in a worker thread)."""
    import trafilatura  # imported on first use: it is a quarter of `newsalert run`'s start-up

    return trafilatura.extract(html, url=url, include_comments=False, include_tables=False)
