"""The HTTP client python-telegram-bot sends through: aiohttp with kept-alive connections.

PTB's default client (httpx on anyio) costs about as much CPU per request as everything else in a fan-out:
for every request its pool re-checks each idle connection (socket readability, peer address), and the body
is form-encoded from parameters that were JSON-encoded one by one. Here a request is one ``json.dumps`` of
the parameters posted over a connection aiohttp keeps open, and files go as multipart as the Bot API
expects. PTB still maps status codes and Bot API errors (``BaseRequest`` does that around
:meth:`AiohttpRequest.do_request`).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class _Timeouts:
    """This client's defaults, used where PTB passes ``DEFAULT_NONE``; seconds, ``None`` = no bound."""

    read: float | None
    write: float | None
    connect: float | None
    pool: float | None
    media_write: float | None  # uploads get longer than plain requests


def _seconds(value: object, default: float | None) -> float | None:
    """A PTB timeout argument: ``DEFAULT_NONE`` means "the default of this client"."""
    if isinstance(value, int | float):
        return float(value)
    if value is None:
        return None
    return default


class AiohttpRequest(BaseRequest):
    """A :class:`telegram.request.BaseRequest` on one :class:`aiohttp.ClientSession`.

    ``pool_size`` bounds the open connections; requests beyond it wait up to ``pool_timeout`` for one (so a
    burst queues here rather than opening sockets without limit)."""

    def __init__(
        self,
        *,
        pool_size: int,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = pool_size
        self._timeouts = _Timeouts(read_timeout, write_timeout, connect_timeout, pool_timeout, media_write_timeout)
        self._session: aiohttp.ClientSession | None = None
        self._pool_slots = asyncio.Semaphore(pool_size)

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts.read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, keepalive_timeout=30.0)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                skip_auto_headers=("Accept-Encoding",),  # Bot API answers are small JSON
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        has_files = request_data is not None and request_data.contains_files
        defaults = self._timeouts
        write_default = defaults.media_write if has_files else defaults.write
        # aiohttp has no separate write timeout: sending and reading share one bound per request.
        read = _seconds(read_timeout, defaults.read)
        write = _seconds(write_timeout, write_default)
        total = None if read is None or write is None else read + write
        limits = aiohttp.ClientTimeout(total=total, sock_connect=_seconds(connect_timeout, defaults.connect))
        await self._wait_for_slot(_seconds(pool_timeout, defaults.pool))
        try:
            return await self._send(session, url, method, request_data, has_files, limits)
        finally:
            self._pool_slots.release()

    async def _wait_for_slot(self, pool_timeout: float | None) -> None:
        if not self._pool_slots.locked():  # the usual case: no timer task needed for a free slot
            await self._pool_slots.acquire()
            return
        try:
            await asyncio.wait_for(self._pool_slots.acquire(), pool_timeout)
        except TimeoutError:
            raise TimedOut(
                "Pool timeout: all connections are in use; the request was not sent to Telegram"
            ) from None

    async def _send(
        self,
        session: aiohttp.ClientSession,
        url: str,
        method: str,
        request_data: RequestData | None,
        has_files: bool,
        limits: aiohttp.ClientTimeout,
    ) -> tuple[int, bytes]:
        body: aiohttp.FormData | bytes | None = None
        headers = None
        if request_data is not None and has_files:
            body = _multipart(request_data)
        elif request_data is not None:
            # One serialisation of the whole parameter tree (PTB's own client JSON-encodes each value and
            # then form-encodes the result).
            body, headers = json.dumps(request_data.parameters).encode(), _JSON_HEADERS
        try:
            async with session.request(method, url, data=body, headers=headers, timeout=limits) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, upload in request_data.multipart_data.items():
        filename, content, *rest = upload
        content_type = rest[0] if rest else "application/octet-stream"
        form.add_field(name, content, filename=filename, content_type=content_type)
    return form

