"""The HTTP client python-telegram-bot sends through: aiohttp with kept-alive connections.

PTB's default client (httpx on anyio) costs about as much CPU per request as everything else in a fan-out:
for every request its pool re-checks each idle connection (socket readability, peer address), and the body
is form-encoded from parameters that were JSON-encoded one by one. Here a request is one ``json.dumps`` of
the parameters posted over a connection aiohttp keeps open, and files go as multipart as the Bot API
expects. PTB still maps status codes and Bot API errors (``BaseRequest`` does that around
:meth:`AiohttpRequest.do_request`).

Alerts take a shorter way (:meth:`AiohttpRequest.post_json`): their body is encoded by the caller, goes
out through :class:`~bot.transports.telegram.http11.JsonPoster` (kept-alive connections, a prebuilt request
head), and the answer is read by :func:`api_result`, which raises the same PTB exceptions ``BaseRequest``
would. In a fan-out PTB's per-call argument handling (``RequestParameter`` per value, defaults, the method
name's spelling) and aiohttp's per-request objects each cost about as much CPU as the rest of a delivery.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from http import HTTPStatus

import aiohttp
import orjson
from multidict import CIMultiDict, CIMultiDictProxy
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, RequestData

from bot.transports.telegram.http11 import HttpError, JsonPoster

# Immutable, so aiohttp takes them as they are instead of copying a dict into a new multidict per request.
_JSON_HEADERS = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"}))


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
        self._poster: JsonPoster | None = None

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
                auto_decompress=False,  # and never compressed: nothing asked for it
                cookie_jar=aiohttp.DummyCookieJar(),  # the Bot API sets no cookies; skip matching them per request
            )
        if self._poster is None:
            defaults = self._timeouts
            total = None if defaults.read is None or defaults.write is None else defaults.read + defaults.write
            self._poster = JsonPoster(self.USER_AGENT, total, defaults.connect)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
        if self._poster is not None:
            self._poster.close()
            self._poster = None

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
        session = self._live_session()
        has_files = request_data is not None and request_data.contains_files
        defaults = self._timeouts
        write_default = defaults.media_write if has_files else defaults.write
        limits = _limits(defaults, read_timeout, write_timeout, connect_timeout, write_default)
        body, headers = _body(request_data)
        await self._wait_for_slot(_seconds(pool_timeout, defaults.pool))
        try:
            return await self._send(session, url, method, body, headers, limits)
        finally:
            self._pool_slots.release()

    async def post_json(self, url: str, body: bytes) -> object:
        """POST an already encoded JSON body with this client's default timeouts; the answer's ``result``.
        Raises what PTB raises for the same answer (:func:`api_result`), and ``TimedOut``/``NetworkError``."""
        poster = self._poster
        if poster is None:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        await self._wait_for_slot(self._timeouts.pool)
        try:
            status, payload = await poster.post(url, body)
        except TimeoutError as exc:
            raise TimedOut from exc
        except (HttpError, OSError) as exc:
            raise NetworkError(f"{exc.__class__.__name__}: {exc}") from exc
        finally:
            self._pool_slots.release()
        return api_result(status, payload)

    def _live_session(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        return session

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
        body: aiohttp.FormData | bytes | None,
        headers: CIMultiDictProxy[str] | None,
        limits: aiohttp.ClientTimeout,
    ) -> tuple[int, bytes]:
        try:
            async with session.request(method, url, data=body, headers=headers, timeout=limits) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc


def _limits(
    defaults: _Timeouts, read: object, write: object, connect: object, write_default: float | None
) -> aiohttp.ClientTimeout:
    """aiohttp's bounds for one request (it has no separate write timeout: sending and reading share one)."""
    read_s, write_s = _seconds(read, defaults.read), _seconds(write, write_default)
    total = None if read_s is None or write_s is None else read_s + write_s
    return aiohttp.ClientTimeout(total=total, sock_connect=_seconds(connect, defaults.connect))


def _body(request_data: RequestData | None) -> tuple[aiohttp.FormData | bytes | None, CIMultiDictProxy[str] | None]:
    if request_data is None:
        return None, None
    if request_data.contains_files:
        return _multipart(request_data), None
    # One serialisation of the whole parameter tree (PTB's own client JSON-encodes each value and then
    # form-encodes the result).
    return json.dumps(request_data.parameters).encode(), _JSON_HEADERS


def api_result(status: int, payload: bytes) -> object:
    """The ``result`` of a Bot API answer; otherwise the exception ``BaseRequest`` raises for the same answer
    (same classes, same messages), so the callers' error handling is one and the same for both paths."""
    try:
        answer = orjson.loads(payload)
    except ValueError as exc:  # orjson.JSONDecodeError is one; also bytes that are no UTF-8
        if HTTPStatus.OK <= status <= 299:
            raise TelegramError("Invalid server response") from exc
        raise _status_error(status, f"{_phrase(status)}. Parsing the server response {payload!r} failed") from exc
    if not isinstance(answer, dict):
        raise TelegramError("Invalid server response")
    if HTTPStatus.OK <= status <= 299:
        if "result" not in answer:
            raise TelegramError("Invalid server response")
        return answer["result"]
    message = answer.get("description") or _phrase(status)
    parameters = answer.get("parameters")
    if parameters:
        if parameters.get("migrate_to_chat_id"):
            raise ChatMigrated(parameters["migrate_to_chat_id"])
        if parameters.get("retry_after"):
            raise RetryAfter(parameters["retry_after"])
        message += f". The server response contained unknown parameters: {parameters}"
    raise _status_error(status, message)


def _phrase(status: int) -> str:
    try:
        return f"{HTTPStatus(status).phrase} ({status})"
    except ValueError:
        return f"Unknown HTTPError ({status})"


def _status_error(status: int, message: str) -> TelegramError:
    if status == HTTPStatus.FORBIDDEN:
        return Forbidden(message)
    if status in (HTTPStatus.NOT_FOUND, HTTPStatus.UNAUTHORIZED):
        return InvalidToken(message)
    if status == HTTPStatus.BAD_REQUEST:
        return BadRequest(message)
    if status == HTTPStatus.CONFLICT:
        return Conflict(message)
    return NetworkError(message)  # 5xx and anything else: worth retrying


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, upload in request_data.multipart_data.items():
        filename, content, *rest = upload
        content_type = rest[0] if rest else "application/octet-stream"
        form.add_field(name, content, filename=filename, content_type=content_type)
    return form

