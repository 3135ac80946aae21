"""Small shared pieces of the command-line commands."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.storage.store import Storage
    from config.settings import Settings


class CliError(Exception):
    """A problem to report as one line on stderr with exit code 2."""


def fail(message: str, code: int = 2) -> int:
    print(f"newsalert: {message}", file=sys.stderr)
    return code


@asynccontextmanager
async def open_storage(settings: Settings) -> AsyncIterator[Storage]:
    # imported here: every command module imports this one, and only the database commands need SQLite
    from bot.storage.db import StorageError
    from bot.storage.store import Storage

    try:
        storage = await Storage.connect(settings)
    except StorageError as exc:
        raise CliError(str(exc)) from None
    try:
        yield storage
    finally:
        await storage.close()
