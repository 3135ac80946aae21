"""``newsalert db check`` and ``newsalert db copy --from SQLITE --to POSTGRES_URL``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import fail, progress_bar

if TYPE_CHECKING:  # database drivers load when a db command runs, never for `newsalert --help`
    from rich.progress import TaskID

    from bot.storage.copy import CopyReport
    from bot.storage.postgres import PostgresDatabase
    from bot.storage.sql import SqlDatabase
    from config.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("db", help="database: check the schema and counts, copy SQLite into PostgreSQL")
    actions = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    check = actions.add_parser("check", help="schema version and row counts of the configured database")
    check.set_defaults(func=check_command)
    copy = actions.add_parser("copy", help="copy a SQLite installation into an empty PostgreSQL database")
    copy.add_argument("--from", dest="source", required=True, metavar="SQLITE_PATH", help="the SQLite file")
    copy.add_argument("--to", dest="target", required=True, metavar="POSTGRES_URL", help="postgresql://…")
    copy.add_argument("--resume", action="store_true", help="continue a copy that stopped half way")
    copy.set_defaults(func=copy_command)


async def check_command(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio  # loaded already by the running loop; here so that `newsalert --help` does not load it

    from bot.storage.sql import StorageError, open_database

    url = settings.database_url.get_secret_value() if settings.database_url else None
    if url is None and not await asyncio.to_thread(settings.db_path.exists):
        return fail(f"no database at {settings.db_path} (it is created when the bot first starts)")
    try:
        # Not migrated: a check must not change the database it looks at.
        db = await open_database(settings.db_path, url, migrate=False)
    except StorageError as exc:
        return fail(str(exc))
    try:
        await _print_check(db)
    finally:
        await db.close()
    return 0


async def _print_check(db: SqlDatabase) -> None:
    from bot.storage.copy import row_counts
    from bot.storage.leader import current_leader
    from bot.storage.sql import load_migrations

    version, latest = await db.schema_version(), load_migrations(db.dialect)[-1].version
    engine = "PostgreSQL" if db.dialect == "postgres" else "SQLite"
    print(f"database: {engine} {db.describe()}")
    pending = "" if version >= latest else f" ({latest - version} migration(s) pending: applied at next start)"
    print(f"schema version: {version} of {latest}{pending}")
    if db.dialect == "postgres":
        print(f"leader: {await current_leader(db) or 'none (no instance running)'}")
    for table, count in (await row_counts(db)).items():
        print(f"  {table:<16} {count:>10}")


async def copy_command(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from bot.storage.postgres import PostgresDatabase
    from bot.storage.sql import StorageError, open_database

    source_path = Path(args.source)
    if not await asyncio.to_thread(source_path.is_file):
        return fail(f"no SQLite database at {source_path}")
    if not args.target.startswith(("postgresql://", "postgres://")):
        return fail("--to must be a postgresql://user:password@host:port/database URL")
    try:
        source = await open_database(source_path)
    except StorageError as exc:
        return fail(str(exc))
    try:
        target = await PostgresDatabase.open(args.target)
    except StorageError as exc:
        await source.close()
        return fail(str(exc))
    try:
        report = await _copy_with_progress(source, target, args.resume)
    except StorageError as exc:
        return fail(f"copy stopped, the table being copied was rolled back: {exc}")
    finally:
        await target.close()
        await source.close()
    return _print_copy(report, target.describe())


async def _copy_with_progress(source: SqlDatabase, target: PostgresDatabase, resume: bool) -> CopyReport:
    from bot.storage.copy import copy_database

    tasks: dict[str, TaskID] = {}
    with progress_bar(description="[bold]{task.description:<16}") as bar:

        def advance(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(table, total=total)
            bar.update(tasks[table], completed=done)

        return await copy_database(source, target, resume=resume, progress=advance)


def _print_copy(report: CopyReport, where: str) -> int:
    for table in report.skipped:
        print(f"  {table:<16} complete already, skipped")
    for count in report.tables:
        mark = "ok" if count.source == count.target else "MISMATCH"
        print(f"  {count.table:<16} {count.source:>10} → {count.target:>10}  {mark}")
    if not report.matches:
        return fail(f"row counts differ after the copy into {where}", code=1)
    print(f"copied into {where}; every table has the source's row count")
    return 0
