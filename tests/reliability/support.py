"""Shared pieces of the reliability suite: database snapshots, FTS consistency, and an application kept on
its own event loop so hypothesis (which drives plain functions) can send it thousands of commands."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Coroutine, Iterable
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any, TypeVar

import aiosqlite

from bot.app import App, running_app
from bot.core.messaging import IncomingCommand, Reply
from config.settings import Settings
from handlers.registry import build_registry

T = TypeVar("T")

# Transport bookkeeping (sync tokens, button keys) changes whenever a platform is polled, whatever users do.
TRANSPORT_STATE = ("kv",)

Snapshot = dict[str, list[tuple[Any, ...]]]


async def snapshot(conn: aiosqlite.Connection, *, exclude: Iterable[str] = TRANSPORT_STATE) -> Snapshot:
    """Every row of every ordinary table (FTS shadow tables included), for "nothing changed" checks."""
    skipped = set(exclude)
    async with conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"
    ) as cur:
        tables = [row[0] async for row in cur if row[0] not in skipped]
    state: Snapshot = {}
    for table in tables:
        # Sorted in Python: WITHOUT ROWID tables (FTS shadow tables) have no rowid to order by.
        async with conn.execute(f'SELECT * FROM "{table}"') as cur:
            state[table] = sorted([tuple(row) for row in await cur.fetchall()], key=repr)
    return state


def changed_tables(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


async def fts_consistent(conn: aiosqlite.Connection) -> None:
    """Raises ``sqlite3.DatabaseError`` unless the full-text index matches the articles table exactly
    (rank 1 makes FTS5 compare against the external content table, not only itself)."""
    await conn.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES('integrity-check', 1)")


async def scalar(conn: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()) -> Any:
    async with conn.execute(sql, params) as cur:
        row = await cur.fetchone()
    return row[0] if row else None


class LoopApp:
    """``running_app`` on a private event loop: ``with LoopApp(settings) as runner: runner.run(coro)``.

    Hypothesis calls plain functions, so each example runs its coroutine to completion on this loop while
    the application (and its background workers) stays up between examples.
    """

    def __init__(self, settings: Settings, **app_options: Any) -> None:
        self._settings = settings
        self._options = app_options
        self._loop = asyncio.new_event_loop()
        self._stack = AsyncExitStack()
        self.app: App | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(coro)

    def __enter__(self) -> App:
        self.app = self.run(self._stack.enter_async_context(running_app(self._settings, **self._options)))
        return self.app

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            self.run(self._stack.aclose())
        finally:
            self._loop.close()


# --- admin-only commands, enumerated from the registry so a new one is probed automatically ----------------

ADMIN_REFUSAL = "Only bot admins can use /{name}."
SEED_UPLOAD = (
    "date 2024-03-15\nPutin empfängt Kim Jong-Un in Wladiwostok\n\n"
    "Kremlchef Wladimir Putin hat den nordkoreanischen Machthaber Kim Jong-Un in Wladiwostok empfangen. "
    "Beide Seiten sprachen über Munition, Raketen und eine engere militärische Zusammenarbeit.\n"
).encode()


def admin_commands() -> list[str]:
    """Every admin-only command (its main name) the dispatcher knows."""
    return sorted({spec.name for spec in build_registry().ordered if spec.admin_only})


def admin_arguments(name: str, feed_url: str) -> str:
    """An argument that would do something if the command ran: a feed number for ``removefeed``, else a
    feed address (a download the refusal must prevent)."""
    return "1" if name == "removefeed" else feed_url


def admin_upload(name: str, feed_url: str) -> tuple[str, bytes]:
    """A file a command could act on: an OPML list for the OPML commands, else an article."""
    if "opml" in name:
        outline = f'<outline type="rss" text="probe" xmlUrl="{feed_url}"/>'
        body = f'<?xml version="1.0"?><opml version="2.0"><head/><body>{outline}</body></opml>'
        return "feeds.opml", body.encode()
    return "putin.txt", SEED_UPLOAD


@dataclasses.dataclass(slots=True)
class FetchLog:
    arrived: list[str] = dataclasses.field(default_factory=list)  # commands that came with a file
    fetched: list[str] = dataclasses.field(default_factory=list)  # commands that downloaded it


def record_fetches(app: App) -> FetchLog:
    """Wrap the application's command entry (what the transport calls) so downloads are recorded."""
    log = FetchLog()
    handle = app.handle

    async def recording(command: IncomingCommand) -> Reply:
        attachment = command.attachment
        if attachment is not None:
            log.arrived.append(command.name)
            original = attachment.fetch

            async def fetch() -> bytes:
                log.fetched.append(command.name)
                return await original()

            command = dataclasses.replace(command, attachment=dataclasses.replace(attachment, fetch=fetch))
        return await handle(command)

    app.handle = recording  # type: ignore[method-assign]
    return log
