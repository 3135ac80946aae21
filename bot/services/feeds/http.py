"""The one shared HTTP client for feeds and linked pages, with the safety rules built in.

Schemes and IP literals are checked on every hop, host names by :class:`GuardedResolver` at connection time
(so a second, different DNS answer cannot slip through), redirects are followed by hand and counted, the
body is read against a cap counted after decompression, and the whole exchange runs under one deadline.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from bot.core.feeds import UnsafeUrl, address_refusal, check_feed_url, literal_address, parse_retry_after
from bot.core.feeds.urls import IPAddress
from config.settings import FeedSettings

if TYPE_CHECKING:  # aiohttp is loaded with .client by the first request (see FeedFetcher._client)
    import aiohttp
    from aiohttp.abc import AbstractResolver

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

AddressPolicy = Callable[[IPAddress], "str | None"]


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
    content_location: str | None = None

    def link_base(self) -> str:
        """What relative links resolve against, as feedparser does: ``Content-Location`` (when it is an
        http(s) URL after joining) or else the final URL."""
        if self.content_location:
            joined = urljoin(self.url, self.content_location.strip())
            if urlsplit(joined).scheme in ("http", "https"):
                return joined
        return self.url


class FeedFetcher:
    """One shared aiohttp session with the safety rules; opened by the first request after :meth:`start`
    (aiohttp is imported then, off the event loop), closed by :meth:`close`."""

    def __init__(
        self, settings: FeedSettings, policy: AddressPolicy | None = None, resolver: AbstractResolver | None = None
    ) -> None:
        """``resolver`` answers DNS questions (the system resolver by default; tests inject answers)."""
        self._settings = settings
        self._policy: AddressPolicy = policy or (
            lambda address: address_refusal(address, allow_private=settings.allow_private_hosts)
        )
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None
        self._started = False
        self._opening = asyncio.Lock()

    async def start(self) -> None:
        self._started = True

    async def _client(self) -> ModuleType:
        """The aiohttp side (:mod:`.client`), imported in a worker thread the first time: its import is a
        third of a second of CPU the event loop would otherwise stand still for."""
        return await asyncio.to_thread(importlib.import_module, "bot.services.feeds.client")

    async def _dns(self) -> AbstractResolver:
        if self._resolver is None:
            self._resolver = (await self._client()).system_resolver()
        return self._resolver

    async def _live_session(self) -> aiohttp.ClientSession:
        if not self._started:
            raise RuntimeError("FeedFetcher.start() was not called")
        async with self._opening:  # two first fetches at once open one session
            if self._session is None:
                client, resolver = await self._client(), await self._dns()
                self._session = client.open_session(
                    self._policy, resolver, user_agent=USER_AGENT, timeout=self._settings.timeout_seconds,
                    limits=(TOTAL_LIMIT, PER_HOST_LIMIT),
                )  # fmt: skip
            return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._started = False

    async def check_host(self, url: str) -> None:
        """Resolve the URL's host now and raise :class:`FetchError` if it is refused or unknown, so an admin
        hears about a typo or an internal address when adding the feed, not at the first poll."""
        host = urlsplit(url).hostname or ""
        literal = literal_address(host)
        if literal is not None:
            self._refuse_literal(literal)
            return
        try:
            async with asyncio.timeout(self._settings.timeout_seconds):
                answers = await (await self._dns()).resolve(host, 0, socket.AF_UNSPEC)
        except TimeoutError:
            raise FetchError(f"cannot resolve host {host!r} (no answer in time)") from None
        except (OSError, UnicodeError) as exc:
            raise FetchError(f"cannot resolve host {host!r} ({exc})") from None
        for answer in answers:
            address = literal_address(answer["host"])
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
        session = await self._live_session()
        import aiohttp  # loaded by _live_session: only its exception classes are needed here

        headers = {"Accept": accept}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        timeout = self._settings.timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                return await self._follow(session, url, headers)
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
                    content_location=resp.headers.get("Content-Location"),
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
    from yarl import URL  # aiohttp's URL type, loaded with it

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

