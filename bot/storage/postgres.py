"""PostgreSQL through asyncpg: a small pool, ``?`` → ``$n`` translation, migrations under an advisory lock.

Several instances share one PostgreSQL database, so unlike SQLite nothing here serialises writers in the
process: PostgreSQL's own row locks do, and the few places where instances could race (migrations, outbox
claims, leadership) take explicit locks.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bot.storage.sql import (
    Params,
    Row,
    SqlDatabase,
    StorageError,
    Transaction,
    load_migrations,
    numbered_placeholders,
    to_db_time,
)

log = logging.getLogger(__name__)

# Advisory lock keys (one 64-bit namespace per database); "news" in ASCII, then a purpose number.
MIGRATION_LOCK = 0x6E657773_0001
LEADER_LOCK = 0x6E657773_0002
_CONNECT_TIMEOUT = 10.0


class PostgresError(StorageError):
    """A PostgreSQL failure, with its SQLSTATE when the server gave one (``23505`` unique violation, …)."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def _wrapped(exc: BaseException, where: str) -> PostgresError:
    sqlstate = getattr(exc, "sqlstate", None)
    return PostgresError(f"PostgreSQL {where}: {exc}", sqlstate)


def _changed(status: str) -> int:
    """Rows changed, from a command tag such as ``UPDATE 3`` or ``INSERT 0 1``."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresTransaction(Transaction):
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def run(self, sql: str, params: Params = ()) -> int:
        return _changed(await self.conn.execute(numbered_placeholders(sql), *params))

    async def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        batch = [tuple(r) for r in rows]
        if batch:
            await self.conn.executemany(numbered_placeholders(sql), batch)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self.conn.fetch(numbered_placeholders(sql), *params))


class PostgresDatabase(SqlDatabase):
    """A pool of asyncpg connections to one database that other instances may share."""

    dialect = "postgres"

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self.pool = pool
        self.url = url

    @classmethod
    async def open(cls, url: str, *, pool_size: int = 5, migrate: bool = True) -> PostgresDatabase:
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=pool_size, timeout=_CONNECT_TIMEOUT)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError, ValueError) as exc:
            raise StorageError(f"cannot connect to {redact(url)}: {exc}") from None
        db = cls(pool, url)
        if not migrate:
            return db
        try:
            await db.migrate()
        except BaseException:
            await pool.close()
            raise
        return db

    def describe(self) -> str:
        return redact(self.url)

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection, for the few callers that need PostgreSQL itself (copy, claims)."""
        try:
            async with self.pool.acquire(timeout=_CONNECT_TIMEOUT) as conn:
                yield conn
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            raise _wrapped(exc, f"error on {self.describe()}") from None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTransaction]:
        async with self.connection() as conn, conn.transaction():
            yield PostgresTransaction(conn)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self.connection() as conn:
            return list(await conn.fetch(numbered_placeholders(sql), *params))

    async def iterate(self, sql: str, params: Params = (), batch: int = 500) -> AsyncIterator[list[Row]]:
        async with self.connection() as conn, conn.transaction():
            rows: list[Row] = []
            async for record in conn.cursor(numbered_placeholders(sql), *params, prefetch=batch):
                rows.append(record)
                if len(rows) >= batch:
                    yield rows
                    rows = []
            if rows:
                yield rows

    async def tables(self) -> list[str]:
        rows = await self.fetch_all(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname != 'schema_migrations'"
            " ORDER BY c.oid"
        )
        return [row[0] for row in rows]

    async def schema_version(self) -> int:
        if await self.fetch_val("SELECT to_regclass('schema_migrations')") is None:
            return 0
        value: Any = await self.fetch_val("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        return int(value)

    async def migrate(self) -> list[int]:
        """Each pending migration in its own transaction, under a transaction-scoped advisory lock: a second
        instance starting at the same moment waits, then finds the version already raised and skips it."""
        applied: list[int] = []
        for migration in load_migrations("postgres"):
            async with self.transaction() as tx:
                await tx.run("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
                await tx.run(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
                current = int(await tx.fetch_val("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
                if migration.version <= current:
                    continue
                log.info("applying PostgreSQL migration %s", migration.name)
                try:
                    await tx.conn.execute(migration.sql)  # several statements: the simple query protocol
                except asyncpg.PostgresError as exc:
                    raise PostgresError(f"migration {migration.name} failed: {exc}", exc.sqlstate) from None
                await tx.run(
                    "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, to_db_time(datetime.now(UTC))),
                )
            applied.append(migration.version)
        return applied
