"""A loopback TCP proxy in front of the homeserver that can lose the answer to a message send.

The request reaches the homeserver, which stores the event and answers; the proxy then breaks the
connection instead of passing the answer on. That is what a homeserver killed (or a network cut) between
committing an event and answering looks like to the bot: it cannot know whether the message arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_CHUNK = 65536
_SEND = b"/send/m.room.message/"


@dataclass(eq=False)
class _Link:
    """One client connection and its own connection to the homeserver."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    losing: bytes | None = None  # the request line whose answer is to be lost
    sending: str | None = None  # the message send whose answer comes next


@dataclass(eq=False)
class LossyProxy:
    upstream_url: str
    lost: list[str] = field(default_factory=list)  # request lines whose answers were lost
    sends: list[tuple[float, str]] = field(default_factory=list)  # (loop time, request line) of every message
    # send, repeats included
    answered: list[str] = field(default_factory=list)  # request lines of sends whose answers were passed on
    _to_lose: int = 0
    _losing: set[bytes] = field(default_factory=set)  # sends whose answers are lost, repeats included
    _server: asyncio.Server | None = None
    _recorded: asyncio.Event = field(default_factory=asyncio.Event)  # set whenever a record above grows
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        assert self._server is not None, "start the proxy first"
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def lose_answers(self, count: int) -> None:
        """The next ``count`` message sends (by transaction id) reach the homeserver; their answers, also to
        repeats of these requests, do not reach the client (aiohttp repeats an idempotent PUT once by itself
        when a reused connection breaks)."""
        self._to_lose = count

    async def wait_until(self, test: Callable[[], bool], limit_s: float = 30.0) -> None:
        """Until ``test()`` (about ``lost``, ``sends``, ``answered``) holds; each new record wakes the waiter."""
        async with asyncio.timeout(limit_s):
            while not test():
                self._recorded.clear()
                await self._recorded.wait()

    def stop_losing(self) -> None:
        """Pass every answer on again, also to repeats of the sends whose answers were lost."""
        self._to_lose = 0
        self._losing.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            target = urlsplit(self.upstream_url)
            up_reader, up_writer = await asyncio.open_connection(target.hostname, target.port)
            link = _Link(writer, up_writer)
            await asyncio.gather(self._requests(reader, link), self._answers(up_reader, link))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)
            writer.transport.abort()

    async def _requests(self, reader: asyncio.StreamReader, link: _Link) -> None:
        # The client sends a request only after the previous answer (no pipelining), so a chunk that starts
        # a request starts with its request line, and the next bytes from upstream are its answer.
        while chunk := await reader.read(_CHUNK):
            line = chunk.split(b"\r\n", 1)[0]
            if line.startswith(b"PUT ") and _SEND in line:
                link.sending = line.decode(errors="replace")
                self.sends.append((asyncio.get_running_loop().time(), link.sending))
                self._recorded.set()
                if self._to_lose and line not in self._losing:
                    self._to_lose -= 1
                    self._losing.add(line)
                link.losing = line if line in self._losing else None
            link.upstream.write(chunk)
            await link.upstream.drain()
        link.upstream.close()

    async def _answers(self, reader: asyncio.StreamReader, link: _Link) -> None:
        while chunk := await reader.read(_CHUNK):
            if link.losing is not None:
                self.lost.append(link.losing.decode(errors="replace"))
                self._recorded.set()
                await self._rest_of_answer(reader, chunk)
                link.client.transport.abort()  # a connection reset, as from a killed server
                link.upstream.transport.abort()
                return
            if link.sending is not None:
                self.answered.append(link.sending)
                link.sending = None
                self._recorded.set()
            link.client.write(chunk)
            await link.client.drain()
        link.client.close()

    @staticmethod
    async def _rest_of_answer(reader: asyncio.StreamReader, first: bytes) -> None:
        """Read the homeserver's whole answer first: it has certainly stored the event by then."""
        head, _, body = first.partition(b"\r\n\r\n")
        lines = head.lower().split(b"\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in lines if line.startswith(b"content-length:")), 0)
        with contextlib.suppress(asyncio.IncompleteReadError):
            if len(body) < length:
                await reader.readexactly(length - len(body))
