"""Shared fixtures: settings on a temporary database, a running application with a recording messenger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App, running_app
from config.settings import Settings
from tests.backends import backend_settings, db_backend, pg_databases, pytest_generate_tests  # noqa: F401
from tests.fakes import RecordingMessenger
from tests.pg import backend_name, pg_database_url, pg_server, storage_backend  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SHARED = REPO.parent / "shared"
SEED_FILE = SEEDS / "000_a4bb6051e356c940.txt"


@pytest.fixture
def settings(tmp_path: Path, db_backend: str, request: pytest.FixtureRequest) -> Settings:  # noqa: F811
    return backend_settings(tmp_path, db_backend, request, SEEDS)  # SQLite; also PostgreSQL in tests/backends


@pytest.fixture
def messenger() -> RecordingMessenger:
    return RecordingMessenger()


@pytest.fixture
async def app(settings: Settings, messenger: RecordingMessenger) -> AsyncIterator[App]:
    async with running_app(settings) as running:
        running.services.delivery.register(messenger)
        yield running
