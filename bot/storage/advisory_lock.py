"""PostgreSQL leadership: a session advisory lock held on a connection of its own (see bot/storage/leader.py).

A module of its own so that only an instance on PostgreSQL imports asyncpg.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket

import asyncpg

from bot.storage.leader import Leadership
from bot.storage.postgres import LEADER_LOCK

log = logging.getLogger(__name__)


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
        conn = await asyncpg.connect(self._url, timeout=self._retry * 5, server_settings={"application_name": label})
        self._conn = conn  # stored before the SETs, so a failure below still gets it closed
        # The server notices a vanished leader through keepalives on this session (seconds, not hours).
        for setting, value in (("idle", self._keepalive), ("interval", 1), ("count", 2)):
            await conn.execute(f"SET tcp_keepalives_{setting} = {int(value)}")
        return conn

    async def _try_once(self) -> bool:
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
