"""The Bot API test server in a process of its own, for throughput runs.

In the app's process the server's own work (HTTP parsing, HTML entity checks for every message) would take
the event loop the bot needs, and the figure would measure both; Telegram's servers are not on the bot's CPU
either. Send times use ``time.monotonic``, which is the same clock in every process on Linux.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import resource
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import TYPE_CHECKING

from bench.common import BenchError, load_test_server

if TYPE_CHECKING:
    from tests.telegram_server import BotApiServer

READY_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class ServerSpec:
    send_rate_limit: float | None
    first_user_id: int
    users: int
    deadline_s: float  # report at the latest this long after the first send


@dataclass(frozen=True, slots=True)
class Endpoint:
    token: str
    api_base_url: str
    file_base_url: str


@dataclass(frozen=True, slots=True)
class SendRecord:
    chat_id: int | None
    arrived_at: float
    status: int
    paid: bool


@dataclass(frozen=True, slots=True)
class ServerReport:
    sends: list[SendRecord]
    early_sends: int
    cpu_s: float  # the server process's CPU from its first received send to the report (not the bot's)


def _serve(spec: ServerSpec, conn: Connection) -> None:
    asyncio.run(_serve_async(spec, conn))


async def _serve_async(spec: ServerSpec, conn: Connection) -> None:
    server = load_test_server()(send_rate_limit=spec.send_rate_limit)
    async with server:
        chats = set()
        for user_id in range(spec.first_user_id, spec.first_user_id + spec.users):
            chats.add(server.private_chat(server.add_user(user_id, f"Reader {user_id}")).id)
        conn.send(Endpoint(server.token, server.api_base_url, server.file_base_url))
        cpu_s = await _until_delivered(server, chats, spec.deadline_s)
        sends = [SendRecord(a.chat_id, a.arrived_at, a.status, a.paid) for a in server.attempts]
        conn.send(ServerReport(sends, len(server.early_sends()), cpu_s))
        await asyncio.to_thread(conn.recv)  # keep answering the bot until it has shut down


async def _until_delivered(server: BotApiServer, chats: set[int], deadline_s: float) -> float:
    """Wait until every chat got a message (or the deadline passed); the CPU seconds it took the server."""
    seen = accepted = 0
    give_up: float | None = None
    cpu_started = 0.0
    while give_up is None or time.monotonic() < give_up:
        fresh = server.attempts[seen:]
        seen += len(fresh)
        if fresh and give_up is None:
            give_up = time.monotonic() + deadline_s
            cpu_started = _cpu_seconds()
        accepted += sum(1 for a in fresh if a.status == 200 and a.chat_id in chats)
        if accepted >= len(chats):
            break
        await asyncio.sleep(0.05)  # a benchmark's wait, not a test's: polling the record is enough
    return _cpu_seconds() - cpu_started


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class ServerProcess:
    """``async with ServerProcess(spec) as endpoint: ...; report = await process.report()``."""

    def __init__(self, spec: ServerSpec) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(spec, child_conn), name="bot-api-server", daemon=True
        )

    async def __aenter__(self) -> Endpoint:
        self._process.start()
        if not await asyncio.to_thread(self._conn.poll, READY_TIMEOUT_S):
            await self._stop()
            raise BenchError("the Bot API test server process did not start")
        try:
            endpoint: Endpoint = self._conn.recv()
        except EOFError:
            await self._stop()
            raise BenchError("the Bot API test server process exited before it was ready") from None
        return endpoint

    async def report(self) -> ServerReport:
        """Waits until every chat got a message (or the deadline passed) and returns the server's record."""
        report: ServerReport = await asyncio.to_thread(self._conn.recv)
        return report

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stop()

    async def _stop(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(OSError):
                self._conn.send("stop")
            await asyncio.to_thread(self._process.join, 10.0)
        if self._process.is_alive():
            self._process.terminate()
            await asyncio.to_thread(self._process.join, 5.0)
        self._conn.close()
