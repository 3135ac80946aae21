"""Moving an installation from SQLite to PostgreSQL (``newsalert db copy``) and counting rows (``db check``).

Both schemas are migrated to the same version first (the migration numbers mean the same schema on both
engines). Tables are copied in creation order, so every foreign key points at rows already there, each
table in one transaction with PostgreSQL's COPY protocol; a copy that stopped half way is resumed with
``resume=True``: tables already complete are skipped, the table that failed was rolled back and starts over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.storage.articles import SQLITE_HASH_TEXT
from bot.storage.postgres import PostgresDatabase
from bot.storage.sql import SqlDatabase, StorageError

BATCH = 2000
_COLUMNS_SQL = {
    "sqlite": "SELECT name FROM pragma_table_info(?) ORDER BY cid",
    # Generated columns (the tsvector) are computed by PostgreSQL itself.
    "postgres": "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
    " AND table_name = ? AND is_generated = 'NEVER' ORDER BY ordinal_position",
}

Progress = Callable[[str, int, int], None]  # table, rows copied so far, rows in all
# Columns SQLite stores otherwise than PostgreSQL, read as PostgreSQL stores them.
_FROM_SQLITE = {("articles", "content_hash"): f"{SQLITE_HASH_TEXT} AS content_hash"}


class CopyRefused(StorageError):
    """The target cannot take the copy (not empty, other schema); nothing was written."""


@dataclass(frozen=True, slots=True)
class TableCount:
    table: str
    source: int
    target: int


@dataclass
class CopyReport:
    tables: list[TableCount] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # complete already (resume)

    @property
    def matches(self) -> bool:
        return all(t.source == t.target for t in self.tables)


async def columns(db: SqlDatabase, table: str) -> list[str]:
    return [str(row[0]) for row in await db.fetch_all(_COLUMNS_SQL[db.dialect], (table,))]


async def row_counts(db: SqlDatabase) -> dict[str, int]:
    """Rows per product table, in creation order. Table names come from the catalog, never from users."""
    return {table: int(await db.fetch_val(f'SELECT COUNT(*) FROM "{table}"') or 0) for table in await db.tables()}


async def _plan(source: SqlDatabase, target: PostgresDatabase, resume: bool) -> tuple[list[str], list[str]]:
    """(tables to copy, tables complete already); refuses anything that could mix two installations."""
    source_version, target_version = await source.schema_version(), await target.schema_version()
    if source_version != target_version:
        raise CopyRefused(f"schema versions differ: source {source_version}, target {target_version}")
    have, want = await row_counts(target), await row_counts(source)
    missing = [t for t in want if t not in have]
    if missing:
        raise CopyRefused(f"the target has no table {', '.join(missing)}")
    filled = {t: n for t, n in have.items() if n}
    if filled and not resume:
        shown = ", ".join(f"{t} ({n} rows)" for t, n in filled.items())
        raise CopyRefused(f"the target database is not empty: {shown}; copy into an empty database")
    done = [t for t in want if t in filled and filled[t] == want[t]]
    clash = [t for t in filled if t not in done]
    if clash:
        raise CopyRefused(f"cannot resume: {', '.join(clash)} in the target differ from the source")
    return [t for t in want if t not in done], done


async def copy_database(
    source: SqlDatabase, target: PostgresDatabase, *, resume: bool = False, progress: Progress | None = None
) -> CopyReport:
    todo, done = await _plan(source, target, resume)
    totals = await row_counts(source)
    report = CopyReport(skipped=done)
    for table in todo:
        await _copy_table(source, target, table, totals[table], progress)
    final = await row_counts(target)
    report.tables = [TableCount(t, n, final.get(t, 0)) for t, n in totals.items()]
    return report


async def _copy_table(
    source: SqlDatabase, target: PostgresDatabase, table: str, total: int, progress: Progress | None
) -> None:
    wanted = set(await columns(target, table))
    names = [c for c in await columns(source, table) if c in wanted]
    read = [_FROM_SQLITE.get((table, c), c) if source.dialect == "sqlite" else c for c in names]
    select = f'SELECT {", ".join(read)} FROM "{table}"'
    copied = 0
    async with target.connection() as conn, conn.transaction():
        async for rows in source.iterate(select, batch=BATCH):
            await conn.copy_records_to_table(table, records=[tuple(r) for r in rows], columns=names)
            copied += len(rows)
            if progress:
                progress(table, copied, total)
        if "id" in names:
            # Rows came with their ids: the identity must continue after them, not collide with them.
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false)"
                f' FROM "{table}"'
            )
    if progress and not total:
        progress(table, 0, 0)
