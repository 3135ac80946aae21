"""SQLite, the embedded default: connection, pragmas, numbered migrations and the single-writer transaction.

The shared pieces (time format, migrations loading, :class:`StorageError`) live in :mod:`bot.storage.sql`
and are re-exported here, where callers have always imported them from.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.storage.checkpoints import BackgroundCheckpointer
from bot.storage.sql import (
    Migration,
    Params,
    Row,
    SqlDatabase,
    Statement,
    StorageError,
    Transaction,
    from_db_date,
    from_db_time,
    load_migrations,
    to_db_time,
)

__all__ = [
    "Database",
    "Migration",
    "SqliteDatabase",
    "StorageError",
    "from_db_date",
    "from_db_time",
    "load_migrations",
    "to_db_time",
]

log = logging.getLogger(__name__)

WAL_CHECKPOINT_PAGES = 4_000
CACHE_KIB = 16 * 1024
T = TypeVar("T")


class SqliteTransaction(Transaction):
    """The neutral API over the one connection; anything else (``execute``, ``total_changes``) is the
    aiosqlite connection's own, so code written against aiosqlite keeps working on SQLite.

    Each statement is one trip to aiosqlite's thread, not three (execute, fetch, close). While the matching
    thread holds the GIL, every trip waits for the interpreter's switch interval: a trip took 0.07 ms alone
    and 21.6 ms beside a busy thread. The writes of a bulk import therefore go through
    :meth:`SqliteDatabase.run_all` and :meth:`SqliteDatabase.in_one_trip`: one trip per transaction."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    async def run(self, sql: str, params: Params = ()) -> int:
        # a write statement is reset by sqlite3 when it completes: its cursor holds nothing to close
        cursor = await self._conn.execute(sql, params)
        return cursor.rowcount

    async def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, params))


def _in_transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """``work`` between ``BEGIN IMMEDIATE`` and ``COMMIT``, in aiosqlite's thread; rolled back on any error
    (unless SQLite already did, see :meth:`SqliteDatabase._rollback`)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def _unhex(text: str) -> bytes:
    return bytes.fromhex(text)


def _run_each(statements: Sequence[Statement], conn: sqlite3.Connection) -> list[int]:
    return [conn.execute(sql, params).rowcount for sql, params in statements]


class SqliteDatabase(SqlDatabase):
    """One aiosqlite connection in autocommit mode; writes go through :meth:`transaction` one at a time."""

    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection, path: Path | str) -> None:
        self.conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()
        self._bulk_writers = 0  # bulk_writes() blocks running: the checkpointer runs while there is one
        self._checkpointer: BackgroundCheckpointer | None = None

    @classmethod
    async def open(cls, path: Path | str, *, migrate: bool = True) -> SqliteDatabase:
        if str(path) != ":memory:":
            path = Path(path)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the folder of {path}: {exc.strerror}") from None
        try:
            conn = await aiosqlite.connect(str(path), isolation_level=None)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {path}: {exc}") from None
        conn.row_factory = aiosqlite.Row
        db = cls(conn, path)
        try:
            await db._configure()
            if migrate:
                await db.migrate()
        except sqlite3.Error as exc:
            await conn.close()
            raise StorageError(f"cannot use database {path}: {exc}") from None
        except BaseException:
            await conn.close()
            raise
        return db

    async def _configure(self) -> None:
        await self.conn.execute("PRAGMA journal_mode=WAL")
        await self.conn.execute("PRAGMA synchronous=NORMAL")
        await self.conn.execute("PRAGMA foreign_keys=ON")
        await self.conn.execute("PRAGMA busy_timeout=5000")
        # Checkpoint every 4,000 WAL pages (16 MiB at 4 KiB pages), not SQLite's 1,000: a bulk import
        # rewrites the same index and full-text pages in every batch, and each checkpoint copied them back
        # and synced both files. A 40,000-item RSS import took 10 % less time (3.45 → 3.1 s); 10,000 pages
        # gained no more. The WAL file then stays up to that size between checkpoints.
        await self._checkpoint_in_commits()
        # A 16 MiB page cache, not SQLite's 2 MiB: the content-hash index and the mentions' key take inserts at
        # random places, and once they outgrow the cache every batch reads their pages again. The whole RSS
        # corpus (122,813 items) imported 6 % faster (10.3 → 9.65 s) for 13 MB more memory; 32 MiB no faster.
        await self.conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")

    async def _checkpoint_in_commits(self) -> None:
        await self.conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")

    @asynccontextmanager
    async def bulk_writes(self) -> AsyncIterator[None]:
        """The writer's commits stop checkpointing and a background checkpointer takes over until the last
        of these blocks ends (see :mod:`bot.storage.checkpoints`); then everything is as before, even after a
        failure."""
        if str(self.path) == ":memory:":  # no WAL file
            yield
            return
        self._bulk_writers += 1
        try:
            if self._bulk_writers == 1:
                await self._checkpoint_beside()
            yield
        finally:
            self._bulk_writers -= 1
            if self._bulk_writers == 0:
                if self._checkpointer is not None:
                    await self._checkpointer.stop()
                    self._checkpointer = None
                await self._checkpoint_in_commits()

    async def _checkpoint_beside(self) -> None:
        checkpointer = BackgroundCheckpointer(self.path, lambda: self._write_lock, self._checkpoint_in_commits)
        try:
            await checkpointer.start()
        except sqlite3.Error as exc:  # the import still runs; its writer checkpoints as always
            log.warning("checkpoints stay with the writer: cannot open a second connection (%s)", exc)
            return
        self._checkpointer = checkpointer
        await self.conn.execute("PRAGMA wal_autocheckpoint=0")

    def describe(self) -> str:
        return str(self.path)

    async def close(self) -> None:
        await self.conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; any exception rolls back, so no half-written rows remain."""
        async with self._write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield SqliteTransaction(self.conn)
            except BaseException:
                await self._rollback()
                raise
            else:
                try:
                    await self.conn.execute("COMMIT")
                except sqlite3.Error:
                    await self._rollback()
                    raise

    async def in_one_trip(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """A whole write transaction as one trip to aiosqlite's thread: ``work`` gets the thread's own
        ``sqlite3`` connection, runs there between ``BEGIN IMMEDIATE`` and ``COMMIT`` (rolled back on any error)
        and must not await. Each trip costs two GIL hand-overs while other threads run Python: a batch of an
        import made ≈ 16 trips in its two transactions (674 for 40,000 items), now 2, and took 14 % less time.

        aiosqlite has no public way to run a function in its thread; every one of its own methods is an
        ``_execute`` call, which this uses too (the version is bounded in ``pyproject.toml``)."""
        async with self._write_lock:
            return await self.conn._execute(_in_transaction, self.conn._conn, work)

    async def run_all(self, statements: Sequence[Statement]) -> list[int]:
        """One trip for the whole transaction (see :meth:`in_one_trip`)."""
        return await self.in_one_trip(partial(_run_each, statements))

    async def _rollback(self) -> None:
        # After SQLITE_FULL or an I/O error SQLite may already have rolled the transaction back itself;
        # a second ROLLBACK would fail and hide the real error ("database or disk is full") behind
        # "cannot rollback - no transaction is active".
        if self.conn.in_transaction:
            await self.conn.execute("ROLLBACK")

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self.conn.execute_fetchall(sql, params))  # one trip to the thread (see above)

    async def iterate(self, sql: str, params: Params = (), batch: int = 500) -> AsyncIterator[list[Row]]:
        async with self.conn.execute(sql, params) as cur:
            while rows := list(await cur.fetchmany(batch)):
                yield rows

    async def tables(self) -> list[str]:
        rows = await self.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE 'articles_fts%' AND name != 'schema_migrations' ORDER BY rowid"
        )
        return [row[0] for row in rows]

    async def schema_version(self) -> int:
        if not await self.fetch_one("SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'"):
            return 0
        async with self.conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self) -> list[int]:
        """Apply every shipped migration newer than the database, each in its own transaction."""
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        current = await self.schema_version()
        await self.conn.create_function("unhex", 1, _unhex, deterministic=True)  # for migration 008
        applied = []
        for migration in load_migrations("sqlite"):
            if migration.version <= current:
                continue
            log.info("applying migration %s", migration.name)
            async with self._write_lock:
                try:
                    # executescript would COMMIT first; a single script with its own BEGIN keeps it atomic.
                    await self.conn.executescript(
                        "BEGIN IMMEDIATE;\n"
                        + migration.sql
                        + "\nINSERT INTO schema_migrations(version, name, applied_at) VALUES ("
                        + f"{migration.version}, '{migration.name}', '{to_db_time(datetime.now(UTC))}');\n"
                        + "COMMIT;"
                    )
                except sqlite3.Error as exc:
                    if self.conn.in_transaction:
                        await self.conn.execute("ROLLBACK")
                    raise StorageError(f"migration {migration.name} failed: {exc}") from None
            applied.append(migration.version)
        return applied


# The name every caller (and test) has used for the SQLite database since the first release.
Database = SqliteDatabase
