"""A small HTTP/1.1 client for one thing: POSTing JSON bodies to the Bot API over kept-alive connections.

Alerts are sent at up to 1,000 a second, and per request aiohttp's general machinery (request and response
objects, header multidicts, tracing hooks, payload wrappers, a stream reader) cost about as much CPU as the
rest of the delivery together. Here a request is one write of a prebuilt head plus the body, and the answer
is parsed as its bytes arrive by llhttp (Node's HTTP parser, through ``httptools``): ``Content-Length`` or
chunked bodies, or, for a server that sends neither, everything until it closes. Connections are reused
while the server keeps them open (TLS for ``https``). Everything else PTB sends (updates, replies, files)
keeps using aiohttp.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools

_MAX_HEAD = 64 * 1024  # a Bot API answer's head is a few hundred bytes; more means something else answers


class HttpError(Exception):
    """The connection failed or the answer was no HTTP/1.1 (the caller treats it as a network error)."""


@dataclass(frozen=True, slots=True)
class _Target:
    """Where one URL's requests go, and the head every request to it starts with."""

    host: str
    port: int
    tls: bool
    head: bytes  # request line and fixed headers, up to the Content-Length value


def _target(url: str, user_agent: str) -> _Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    host_header = parts.netloc.rpartition("@")[2]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {user_agent}\r\n"
        "Content-Type: application/json\r\nConnection: keep-alive\r\nContent-Length: "
    ).encode("latin-1")
    return _Target(parts.hostname, port, tls, head)


class _Answer:
    """One response, parsed by llhttp (through httptools) as its bytes arrive; ``feed`` returns True once
    it is complete. A body with neither ``Content-Length`` nor chunked framing ends when the server closes."""

    __slots__ = ("_head_bytes", "_parser", "body", "complete", "framed", "headers_done", "keep_alive")

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._head_bytes = 0
        self.body = bytearray()
        self.complete = False
        self.framed = False
        self.headers_done = False
        self.keep_alive = False

    # -- llhttp's callbacks ---------------------------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self.framed = True

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.complete = True
        # asked now: once the message is complete the parser's flags belong to the next one
        self.keep_alive = self.framed and self._parser.should_keep_alive()

    # -- the connection's side ------------------------------------------------------------------------------
    @property
    def status(self) -> int:
        return self._parser.get_status_code() if self.headers_done else 0

    def feed(self, data: bytes) -> bool:
        if not self.headers_done:
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            raise HttpError(f"not an HTTP/1.x answer ({exc})") from None
        if not self.headers_done and self._head_bytes > _MAX_HEAD:
            raise HttpError("the answer's head is too long")
        return self.complete

    def closed(self) -> bool:
        """The server closed the connection: True if that completes the answer (a body read until close)."""
        if self.headers_done and not self.framed:
            self.complete = True
        return self.complete


class _Connection(asyncio.Protocol):
    """One kept-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._answer: _Answer | None = None
        self._done: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None and self._done is None
        self._answer = _Answer()
        self._done = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self._done

    def data_received(self, data: bytes) -> None:
        answer, done = self._answer, self._done
        if answer is None or done is None or done.done():
            self.close()  # bytes nobody asked for: this connection cannot be trusted any more
            return
        try:
            complete = answer.feed(data)
        except HttpError as exc:
            self.close()
            done.set_exception(exc)
            return
        if complete:
            self._finish(answer, done)

    def _finish(self, answer: _Answer, done: asyncio.Future[tuple[int, bytes]]) -> None:
        self._answer = self._done = None
        if not answer.keep_alive:
            self.close()
        done.set_result((answer.status, bytes(answer.body)))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        answer, done = self._answer, self._done
        if answer is None or done is None or done.done():
            return
        if answer.closed():
            self._finish(answer, done)
        else:
            self._answer = self._done = None
            done.set_exception(HttpError(f"the server closed the connection before answering ({exc or 'EOF'})"))

    def abandon(self) -> None:
        """The caller gave up on the answer (timeout, cancel): the connection is in an unknown state."""
        self._answer = self._done = None
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class JsonPoster:
    """POSTs JSON over up to ``pool_size`` kept-alive connections per host; bounds each request by
    ``timeout`` seconds (connect, send and answer together). The caller bounds the concurrency."""

    def __init__(self, user_agent: str, timeout: float | None, connect_timeout: float | None) -> None:
        self._user_agent = user_agent
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._targets: dict[str, _Target] = {}
        self._idle: dict[tuple[str, int, bool], list[_Connection]] = {}
        self._ssl: ssl.SSLContext | None = None

    async def post(self, url: str, body: bytes) -> tuple[int, bytes]:
        """Status and body of the answer; raises :class:`HttpError`, ``OSError`` or ``TimeoutError``."""
        target = self._target_of(url)
        loop = asyncio.get_running_loop()
        connection = self._idle_connection(target) or await self._connect(target)
        done = connection.request(target.head + b"%d\r\n\r\n" % len(body) + body)
        timer = loop.call_later(self._timeout, _time_out, done) if self._timeout is not None else None
        try:
            status, payload = await done
        except BaseException:
            connection.abandon()
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if not connection.closed:
            self._idle.setdefault((target.host, target.port, target.tls), []).append(connection)
        return status, payload

    def close(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    def _target_of(self, url: str) -> _Target:
        target = self._targets.get(url)
        if target is None:
            if len(self._targets) >= 64:  # a handful of endpoints in practice; never grow without bound
                self._targets.clear()
            target = self._targets[url] = _target(url, self._user_agent)
        return target

    def _idle_connection(self, target: _Target) -> _Connection | None:
        idle = self._idle.get((target.host, target.port, target.tls))
        while idle:
            connection = idle.pop()  # the most recently used: the least likely to have been closed
            if not connection.closed:
                return connection
        return None

    async def _connect(self, target: _Target) -> _Connection:
        loop = asyncio.get_running_loop()
        context = await self._ssl_context() if target.tls else None
        opening = loop.create_connection(
            _Connection, target.host, target.port, ssl=context, server_hostname=target.host if context else None
        )
        _, connection = await asyncio.wait_for(opening, self._connect_timeout)
        return connection

    async def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:  # reads the system's CA certificates: off the event loop
            self._ssl = await asyncio.to_thread(ssl.create_default_context)
        return self._ssl


def _time_out(done: asyncio.Future[tuple[int, bytes]]) -> None:
    if not done.done():
        done.set_exception(TimeoutError("no answer in time"))
