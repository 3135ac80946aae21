"""The one database interface the repositories use, whichever engine is behind it (SQLite or PostgreSQL).

Repositories write SQL with ``?`` placeholders; an engine translates them where it needs another style, so
portable statements stay word for word the same. What cannot be portable is looked up by :attr:`dialect`
in one small table per repository.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgres"]
Params = Sequence[Any]
Statement = tuple[str, Params]  # one write statement and its parameters, for SqlDatabase.run_all

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# A placeholder outside quotes; quoted text ('…', "…") is copied as it is.
_SQL_PART = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\?|[^'\"?]+")


class StorageError(Exception):
    """The database cannot be used (unwritable, full, corrupt, unreachable); the message says which and where."""


class Row(Protocol):
    """What both engines return: values by position and by column name."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def __iter__(self) -> Any: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(dialect: Dialect = "sqlite") -> list[Migration]:
    """Migrations of one dialect shipped with the package, ordered by number (found relative to the package)."""
    from importlib import resources  # only where migrations are read, not by every database user

    folder = resources.files("bot.storage") / "migrations" / dialect
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise StorageError(f"duplicate {dialect} migration numbers in {versions}")
    return found


@lru_cache(maxsize=1024)
def numbered_placeholders(sql: str) -> str:
    """``?`` → ``$1, $2, …`` (PostgreSQL style), leaving quoted text alone."""
    parts: list[str] = []
    counter = 0
    for piece in _SQL_PART.findall(sql):
        if piece == "?":
            counter += 1
            parts.append(f"${counter}")
        else:
            parts.append(piece)
    return "".join(parts)


def to_db_time(moment: datetime) -> str:
    """UTC ISO text, sortable as a string (both engines store times this way, so copies are exact)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to storage")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def from_db_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def marks(count: int) -> str:
    """``?,?,?`` for an ``IN (…)`` list of ``count`` values."""
    return ",".join("?" * count)


class _Reads(ABC):
    """Reading, the same inside a transaction and outside one."""

    @abstractmethod
    async def fetch_all(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetch_one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_val(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return row[0] if row is not None else None


class Transaction(_Reads):
    """One open transaction: every statement commits together or not at all."""

    @abstractmethod
    async def run(self, sql: str, params: Params = ()) -> int:
        """Execute one statement; returns how many rows it changed."""

    @abstractmethod
    async def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        """Execute one statement for each parameter row (one prepared statement)."""


class SqlDatabase(_Reads):
    """An opened, migrated database. Reads run outside transactions; writes go through :meth:`transaction`."""

    dialect: Dialect

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Commit on leaving, roll back on any exception (no half-written rows remain)."""

    async def run_all(self, statements: Sequence[Statement]) -> list[int]:
        """Every statement in order in one transaction (all or none of them take effect); how many rows each
        changed. For writes whose statements are all known beforehand: an engine may send them in one go."""
        async with self.transaction() as tx:
            return [await tx.run(sql, params) for sql, params in statements]

    @asynccontextmanager
    async def bulk_writes(self) -> AsyncIterator[None]:
        """Around a bulk import: an engine may change how it writes meanwhile (SQLite checkpoints in the
        background, see :mod:`bot.storage.checkpoints`). Nothing by default."""
        yield

    @abstractmethod
    def iterate(self, sql: str, params: Params = (), batch: int = 500) -> AsyncIterator[list[Row]]:
        """Rows in batches without loading a whole table (``db copy``)."""

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def migrate(self) -> list[int]:
        """Apply every shipped migration newer than the database, each in its own transaction."""

    @abstractmethod
    async def tables(self) -> list[str]:
        """The product's ordinary tables (for ``db check`` and ``db copy``), in creation order."""

    @abstractmethod
    def describe(self) -> str:
        """Where the database is, for messages (never a password)."""

    @abstractmethod
    async def close(self) -> None: ...


async def open_database(path: Path | str, url: str | None = None, *, migrate: bool = True) -> SqlDatabase:
    """PostgreSQL when ``url`` names one, else the SQLite file at ``path``; migrated unless told not to."""
    if url:
        if not url.startswith(("postgresql://", "postgres://")):
            raise StorageError("NEWSALERT_DATABASE_URL must be a postgresql://user:password@host:port/database URL")
        from bot.storage.postgres import PostgresDatabase  # asyncpg is only loaded when it is used

        return await PostgresDatabase.open(url, migrate=migrate)
    from bot.storage.db import SqliteDatabase  # it builds on this module

    return await SqliteDatabase.open(path, migrate=migrate)
