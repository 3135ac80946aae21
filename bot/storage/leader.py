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
import contextlib
import logging
import os
import socket
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.storage.sql import SqlDatabase

if TYPE_CHECKING:  # asyncpg (and the PostgreSQL module) only load where PostgreSQL is used
    import asyncpg

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


class AdvisoryLockLeadership(Leadership):
    """PostgreSQL: a session advisory lock held on a connection of its own."""

    def __init__(
        self,
        url: str,
        *,
        key: int | None = None,
        retry_seconds: float = 2.0,
        check_seconds: float = 2.0,
        keepalive_seconds: int = 3,
    ) -> None:
        self._url = url
        from bot.storage.postgres import LEADER_LOCK

        self._key = LEADER_LOCK if key is None else key
        self._retry = retry_seconds
        self._check = check_seconds
        self._keepalive = keepalive_seconds
        self._conn: asyncpg.Connection | None = None
        self._leading = False

    @property
    def is_leader(self) -> bool:
        return self._leading

    async def _connection(self) -> asyncpg.Connection:
        conn = self._conn
        if conn is not None and not conn.is_closed():
            return conn
        # The name shows in pg_stat_activity and in ``newsalert db check``: which host and process leads.
        label = f"newsalert-leader {socket.gethostname()}:{os.getpid()}"[:63]
        import asyncpg

        conn = await asyncpg.connect(self._url, timeout=self._retry * 5, server_settings={"application_name": label})
        self._conn = conn  # stored before the SETs, so a failure below still gets it closed
        # The server notices a vanished leader through keepalives on this session (seconds, not hours).
        for setting, value in (("idle", self._keepalive), ("interval", 1), ("count", 2)):
            await conn.execute(f"SET tcp_keepalives_{setting} = {int(value)}")
        return conn

    async def _try_once(self) -> bool:
        import asyncpg

        try:
            conn = await self._connection()
            return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", self._key, timeout=self._retry * 5))
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("leadership: cannot reach PostgreSQL (%s); retrying", exc)
            await self._drop_connection()
            return False

    async def acquire(self) -> None:
        while not self._leading:
            if await self._try_once():
                self._leading = True
                return
            await asyncio.sleep(self._retry)

    async def lost(self) -> None:
        """Ping the lock's connection every ``check_seconds``; a failed or slow ping ends leadership (the
        server may drop the session, and with it the lock, soon after)."""
        while self._leading:
            await asyncio.sleep(self._check)
            if not await self._alive():
                self._leading = False
                await self._drop_connection()

    async def _alive(self) -> bool:
        if self._conn is None:
            return False
        import asyncpg

        try:
            await self._conn.fetchval("SELECT 1", timeout=self._check)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        return True

    async def release(self) -> None:
        if self._leading and self._conn is not None:
            with contextlib.suppress(Exception):  # the connection may be gone already: then so is the lock
                await self._conn.execute("SELECT pg_advisory_unlock($1)", self._key)
        self._leading = False

    async def close(self) -> None:
        await self.release()
        await self._drop_connection()

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()  # closing politely could hang on a dead network


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
        return AdvisoryLockLeadership(postgres.url, retry_seconds=retry_seconds, check_seconds=check_seconds)
    return SingleProcessLeadership()


def _postgres(db: SqlDatabase) -> PostgresDatabase | None:
    """``db`` if it is PostgreSQL; told by its dialect first, so SQLite never imports asyncpg."""
    if db.dialect != "postgres":
        return None
    from bot.storage.postgres import PostgresDatabase

    return db if isinstance(db, PostgresDatabase) else None
