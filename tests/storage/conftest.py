"""Every storage test runs twice: on SQLite and on the session's throw-away PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.storage.store import Storage
from tests.pg import StorageBackend


@pytest.fixture
async def storage(storage_backend: StorageBackend) -> AsyncIterator[Storage]:
    yield await storage_backend.open()
