"""Shared fixtures: settings on a temporary database, a running application with a recording messenger."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App, running_app
from bot.core.matching import MatchEngine
from config.settings import Settings
from tests.backends import backend_settings, db_backend, pg_databases, pytest_generate_tests  # noqa: F401
from tests.fakes import RecordingMessenger
from tests.pg import backend_name, pg_database_url, pg_server, storage_backend  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
# the shared corpora sit next to the checkout, or next to a folder above it (a git worktree is deeper)
SHARED = next((p / "shared" for p in REPO.parents if (p / "shared" / "data").is_dir()), REPO.parent / "shared")
SEED_FILE = SEEDS / "000_a4bb6051e356c940.txt"


@pytest.fixture
def settings(tmp_path: Path, db_backend: str, request: pytest.FixtureRequest) -> Settings:  # noqa: F811
    return backend_settings(tmp_path, db_backend, request, SEEDS)  # SQLite; also PostgreSQL in tests/backends


@pytest.fixture
def messenger() -> RecordingMessenger:
    return RecordingMessenger()


@pytest.fixture(scope="session")
def match_engine() -> MatchEngine:
    """One matching engine for the whole session: loading the lexicon costs every app tens of milliseconds.
    Sharing is safe: the engine holds only the shipped lexicon and caches derived from it (compiled
    queries, surface forms), no subscriptions or chat state, so no test can see another's data through it."""
    return MatchEngine.load()


@pytest.fixture
async def app(settings: Settings, messenger: RecordingMessenger, match_engine: MatchEngine) -> AsyncIterator[App]:
    async with running_app(settings, engine=match_engine) as running:
        running.services.delivery.register(messenger)
        yield running


# ------------------------------------------------------------------------------------- parallel runs (xdist)


def pytest_configure(config: pytest.Config) -> None:
    keep_bytecode()
    if config.pluginmanager.hasplugin("xdist"):
        from tests.workers import WorkerGroups  # imports xdist: only where it is loaded

        config.pluginmanager.register(WorkerGroups(), "newsalert-worker-groups")


def keep_bytecode() -> None:
    """Let this run cache compiled modules (``__pycache__``, ignored by git), whatever the shell says.

    Some shells and sandboxes set PYTHONDONTWRITEBYTECODE=1: then every xdist worker compiles and
    assertion-rewrites every module it imports, and every bot the tests start as a subprocess (CLI, crash,
    multi-instance, start-up tests: dozens per run) compiles the whole application again. Dropped here, in
    the controller before the workers are spawned, so the workers and their children inherit it."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
