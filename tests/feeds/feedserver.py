"""A real HTTP server on 127.0.0.1 serving feed documents, with the faults a poller meets in the wild."""

from __future__ import annotations

import asyncio
import gzip
from dataclasses import dataclass, field

from aiohttp import web

from tests.loopback import LoopbackApp

RSS_TYPE = "application/rss+xml; charset=utf-8"


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = RSS_TYPE
    etag: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False
    stall: bool = False  # send the headers and a few bytes, then nothing until the server stops
    pause: float = 0.0  # seconds to hold each request open (to observe concurrency, not to time anything)


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]


class FeedServer(LoopbackApp):
    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[str, Route] = {}
        self.requests: list[SeenRequest] = []
        self._release = asyncio.Event()
        self.in_flight = 0
        self.max_in_flight = 0

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("GET", "/{tail:.*}", self._handle)

    async def stop(self) -> None:
        self._release.set()  # stalled responses end, so the server can stop
        await super().stop()

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def last_headers(self, path: str) -> dict[str, str]:
        return next(r.headers for r in reversed(self.requests) if r.path == path)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(SeenRequest(request.path, dict(request.headers)))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._respond(request)
        finally:
            self.in_flight -= 1

    async def _respond(self, request: web.Request) -> web.StreamResponse:
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="not found")
        if route.pause:
            await asyncio.sleep(route.pause)
        headers = dict(route.headers)
        if route.etag:
            headers["ETag"] = route.etag
            if request.headers.get("If-None-Match") == route.etag:
                return web.Response(status=304, headers=headers)
        if route.stall:
            return await self._stall(request, headers)
        body = route.body
        if route.gzip:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = route.content_type
        return web.Response(status=route.status, body=body, headers=headers)

    async def _stall(self, request: web.Request, headers: dict[str, str]) -> web.StreamResponse:
        response = web.StreamResponse(headers=headers)
        await response.prepare(request)
        await response.write(b"<?xml version='1.0'?><rss")
        await self._release.wait()
        return response
