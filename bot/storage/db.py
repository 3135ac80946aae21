"""Connection, pragmas, numbered migrations and the single-writer transaction."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


class StorageError(Exception):
    """The database cannot be used (unwritable, full, corrupt); the message says which and where."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    """Migrations shipped with the package, ordered by number (found relative to the package)."""
    folder = resources.files("bot.storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise StorageError(f"duplicate migration numbers in {versions}")
    return found


def to_db_time(moment: datetime) -> str:
    """UTC ISO text, sortable as a string."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to storage")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def from_db_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


class Database:
    """One aiosqlite connection in autocommit mode; writes go through :meth:`transaction` one at a time."""

    def __init__(self, conn: aiosqlite.Connection, path: Path | str) -> None:
        self.conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> Database:
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

    async def close(self) -> None:
        await self.conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; any exception rolls back, so no half-written rows remain."""
        async with self._write_lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self._rollback()
                raise
            else:
                try:
                    await self.conn.execute("COMMIT")
                except sqlite3.Error:
                    await self._rollback()
                    raise

    async def _rollback(self) -> None:
        # After SQLITE_FULL or an I/O error SQLite may already have rolled the transaction back itself;
        # a second ROLLBACK would fail and hide the real error ("database or disk is full") behind
        # "cannot rollback - no transaction is active".
        if self.conn.in_transaction:
            await self.conn.execute("ROLLBACK")

    async def schema_version(self) -> int:
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
        applied = []
        for migration in load_migrations():
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
