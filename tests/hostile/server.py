"""Hostile HTTP servers on 127.0.0.1: the corpus with the headers each file implies, and the attacks.

:class:`HostileServer` is an aiohttp application (documents, redirects, gzip); :class:`RawServer` speaks
HTTP by hand for what a well-behaved server library refuses to send (endless headers, dripping bytes).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import zlib
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web

from tests.hostile.corpus import Document
from tests.loopback import LoopbackApp, Serving


@dataclass
class Page:
    body: bytes
    content_type: str = "application/rss+xml"
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200


class HostileServer(LoopbackApp):
    shutdown_timeout = 0.2

    def __init__(self) -> None:
        super().__init__()
        self.pages: dict[str, Page] = {}
        self.redirects: dict[str, str] = {}  # path → Location
        self.hits: Counter[str] = Counter()

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("GET", "/loop/{n}", self._loop)
        router.add_route("GET", "/{tail:.*}", self._page)

    def serve_corpus(self, documents: tuple[Document, ...]) -> dict[str, Document]:
        """Every corpus file at ``/corpus/<name>``, with its own headers (Content-Type, Content-Location,
        ETag …); returns URL → document."""
        served = {}
        for document in documents:
            path = f"/corpus/{document.name}"
            extra = {k.title(): v for k, v in document.headers.items() if k != "content-type"}
            self.pages[path] = Page(document.path.read_bytes(), document.content_type, extra)
            served[self.url(path)] = document
        return served

    async def _page(self, request: web.Request) -> web.StreamResponse:
        self.hits[request.path] += 1
        if request.path in self.redirects:
            raise web.HTTPFound(self.redirects[request.path])
        page = self.pages.get(request.path)
        if page is None:
            return web.Response(status=404)
        headers = {"Content-Type": page.content_type, **page.headers}
        return web.Response(body=page.body, status=page.status, headers=headers)

    async def _loop(self, request: web.Request) -> web.StreamResponse:
        """An endless chain of redirects, each to the next number."""
        self.hits["/loop"] += 1
        raise web.HTTPFound(f"/loop/{int(request.match_info['n']) + 1}")


def gzip_bomb(inflated: int) -> bytes:
    """About ``inflated // 1000`` bytes of gzip that inflate to ``inflated`` zero bytes."""
    return gzip_stream([(b"", 0), (bytes(BLOCK), inflated // BLOCK)])


BLOCK = 1 << 20


def gzip_stream(parts: list[tuple[bytes, int]]) -> bytes:
    """gzip of each ``(data, times)`` part repeated ``times`` times, without compressing every repeat:
    after a full flush deflate starts afresh, so each further copy compresses to the same bytes. A bomb
    that inflates to gigabytes costs a fraction of a second to build. The deflate data is raw, so the
    gzip header and trailer (checksum and length of everything) are written by hand."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw deflate: header/trailer ours
    out = [b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"]
    crc, size = 0, 0
    for data, times in parts:
        if times <= 0:
            continue
        out.append(compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH))
        if times > 1:
            out.append((compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)) * (times - 1))
        for _ in range(times):
            crc = zlib.crc32(data, crc)
        size += len(data) * times
    out.append(compressor.flush())
    out.append(struct.pack("<II", crc, size & 0xFFFFFFFF))
    return b"".join(out)


class RawServer(Serving):
    """Answers every connection with one misbehaviour, chosen by the request path."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0
        self.bytes_sent: Counter[str] = Counter()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            path = request.split(b" ", 2)[1].decode()
            await getattr(self, "_" + path.strip("/").replace("-", "_"))(writer, path)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _send(self, writer: asyncio.StreamWriter, path: str, data: bytes) -> None:
        writer.write(data)
        self.bytes_sent[path] += len(data)
        await writer.drain()

    async def _drip(self, writer: asyncio.StreamWriter, path: str) -> None:
        """A feed, one byte a second: never stalls long enough for a read timeout."""
        body = b"<rss version='2.0'><channel><title>slow</title>" + b" " * 10_000
        await self._send(writer, path, b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n")
        for byte in body:
            await self._send(writer, path, bytes([byte]))
            await asyncio.sleep(1)

    async def _never_ends(self, writer: asyncio.StreamWriter, path: str) -> None:
        """A response body that goes on for ever, as fast as the client reads."""
        await self._send(writer, path, b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n\r\n<rss>")
        chunk = b"<item><title>more</title></item>" * 2048
        while True:
            await self._send(writer, path, chunk)

    async def _endless_headers(self, writer: asyncio.StreamWriter, path: str) -> None:
        """Header lines that never end in the blank line that would start the body."""
        await self._send(writer, path, b"HTTP/1.1 200 OK\r\n")
        line = b"X-Padding: " + b"a" * 100 + b"\r\n"
        while True:
            await self._send(writer, path, line * 100)

    async def _huge_header(self, writer: asyncio.StreamWriter, path: str) -> None:
        """One header value of 16 MB."""
        await self._send(writer, path, b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nX-Huge: ")
        for _ in range(256):
            await self._send(writer, path, b"a" * 65536)
        await self._send(writer, path, b"\r\nContent-Length: 5\r\n\r\n<rss>")
