"""Leadership among instances: the receivers that may run only once (Telegram ``getUpdates``, the Matrix sync
of one device, the scheduler's digest and feed jobs) run on the instance that holds a PostgreSQL advisory
lock. On SQLite there is one process, always the leader.

The lock lives on a dedicated connection (a pooled one could be handed to other work or recycled). Followers
try again every ``retry_seconds``. When the leader dies its connection closes and PostgreSQL releases the
lock at once, so a follower takes over within one retry. When the leader is cut off instead, TCP keepalives
(set on the session) make the server drop it within ``keepalive_seconds``, and the leader's own liveness
check gives up leading before that, so two instances lead at the same time only if clocks and network
misbehave together; the outbox's (chat, article) key still keeps every alert to one copy.

Use::

    leadership = leadership_for(storage.db)
    task = asyncio.create_task(leadership.run_as_leader(start_receivers, stop_receivers))
    ...
    task.cancel(); await leadership.close()
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.storage.sql import SqlDatabase

if TYPE_CHECKING:  # the PostgreSQL modules (and asyncpg) load only where PostgreSQL is used
    from bot.storage.postgres import PostgresDatabase

log = logging.getLogger(__name__)

Step = Callable[[], Awaitable[None]]


class Leadership(ABC):
    """The small API the application uses; see :meth:`run_as_leader`."""

    @property
    @abstractmethod
    def is_leader(self) -> bool: ...

    @abstractmethod
    async def acquire(self) -> None:
        """Return once this instance leads (waits, retrying, while another one does)."""

    @abstractmethod
    async def lost(self) -> None:
        """Return when leadership is lost (never, while it holds)."""

    @abstractmethod
    async def release(self) -> None:
        """Stop leading, so a follower can take over at once (a clean shutdown)."""

    async def close(self) -> None:
        await self.release()

    async def run_as_leader(self, start: Step, stop: Step) -> None:
        """Forever: become leader, ``start()`` the receivers, and when leadership is lost ``stop()`` them
        and wait to lead again. Cancel the task to end it: receivers started are stopped, the lock released."""
        while True:
            await self.acquire()
            log.info("this instance leads: starting the receivers that run once")
            try:
                await start()
                await self.lost()
                log.warning("leadership lost: stopping the receivers that run once")
            finally:
                await asyncio.shield(stop())
                await asyncio.shield(self.release())


class SingleProcessLeadership(Leadership):
    """SQLite: one process, always the leader."""

    def __init__(self) -> None:
        self._closed = asyncio.Event()

    @property
    def is_leader(self) -> bool:
        return not self._closed.is_set()

    async def acquire(self) -> None:
        return None

    async def lost(self) -> None:
        await self._closed.wait()

    async def release(self) -> None:
        return None

    async def close(self) -> None:
        self._closed.set()


async def current_leader(db: SqlDatabase) -> str | None:
    """Who holds the leader lock (``host:pid`` and client address), for ``db check``; ``None`` if nobody."""
    if _postgres(db) is None:
        return None
    from bot.storage.postgres import LEADER_LOCK
    # A bigint advisory key is stored as two 32-bit halves: classid (high), objid (low).
    row = await db.fetch_one(
        "SELECT a.application_name, host(a.client_addr),"
        " to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS \"UTC\"') FROM pg_locks l"
        " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND l.classid = ? AND l.objid = ? AND l.objsubid = 1",
        (LEADER_LOCK >> 32, LEADER_LOCK & 0xFFFFFFFF),
    )
    if row is None:
        return None
    name = str(row[0]).removeprefix("newsalert-leader ") or "?"
    return f"{name} from {row[1] or 'local socket'}, connected since {row[2]}"


def leadership_for(db: SqlDatabase, *, retry_seconds: float = 2.0, check_seconds: float = 2.0) -> Leadership:
    """The leadership that fits the database: an advisory lock on PostgreSQL, always-leader on SQLite."""
    postgres = _postgres(db)
    if postgres is not None:
        from bot.storage.advisory_lock import AdvisoryLockLeadership

        return AdvisoryLockLeadership(postgres.url, retry_seconds=retry_seconds, check_seconds=check_seconds)
    return SingleProcessLeadership()


def _postgres(db: SqlDatabase) -> PostgresDatabase | None:
    """``db`` if it is PostgreSQL; told by its dialect first, so SQLite never imports asyncpg."""
    if db.dialect != "postgres":
        return None
    from bot.storage.postgres import PostgresDatabase

    return db if isinstance(db, PostgresDatabase) else None
