"""Small shared pieces of the command-line commands."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress

    from bot.storage.sql import SqlDatabase
    from bot.storage.store import Storage
    from config.settings import Settings


class CliError(Exception):
    """A problem to report as one line on stderr with exit code 2."""


def fail(message: str, code: int = 2) -> int:
    print(f"newsalert: {message}", file=sys.stderr)
    return code


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[SqlDatabase]:
    """The database the settings select, migrated; a command that reads one table (``search``) wraps it in
    that table's repository and so skips importing every other one."""
    # imported here: every command module imports this one, and only the database commands need SQLite
    from bot.storage.sql import StorageError, open_database

    url = settings.database_url.get_secret_value() if settings.database_url else None
    try:
        db = await open_database(settings.db_path, url)
    except StorageError as exc:
        raise CliError(str(exc)) from None
    try:
        yield db
    finally:
        await db.close()


@asynccontextmanager
async def open_storage(settings: Settings) -> AsyncIterator[Storage]:
    from bot.storage.store import Storage

    async with open_database(settings) as db:
        yield Storage.over(db)


def progress_bar(*, description: str = "[bold]{task.description}", transient: bool = False) -> Progress:
    """The one progress bar of long CLI work: on stderr (stdout stays the command's output), and only on a
    terminal, so pipes and logs get no control characters."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn(description),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=transient,
    )
