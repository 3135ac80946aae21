"""Test servers on 127.0.0.1 at a port the operating system picks, started and stopped with ``async with``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from aiohttp import web


class Serving(ABC):
    """``async with server:`` starts it and always stops it; subclasses define ``start`` and ``stop``."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


class LoopbackApp(Serving):
    """An aiohttp application on loopback; subclasses add their routes in :meth:`add_routes`."""

    shutdown_timeout = 0.5  # seconds aiohttp gives open requests when the server stops

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.port = 0

    @abstractmethod
    def add_routes(self, router: web.UrlDispatcher) -> None: ...

    async def start(self) -> None:
        app = web.Application()
        self.add_routes(app.router)
        self._runner = web.AppRunner(app, shutdown_timeout=self.shutdown_timeout)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"
