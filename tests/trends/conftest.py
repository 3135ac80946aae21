"""A running application on a real temporary SQLite, its clock on the fixture archive's "today"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App, running_app
from bot.core.clock import FakeClock
from config.settings import Settings
from tests.fakes import RecordingMessenger
from tests.trends.archive import NOW, write_seeds


@pytest.fixture
def trend_settings(tmp_path: Path) -> Settings:
    seeds = write_seeds(tmp_path / "seeds")
    return Settings(db_path=tmp_path / "db" / "news.db", seeds_dir=seeds, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def trend_app(trend_settings: Settings) -> AsyncIterator[App]:
    """The fixture archive loaded as seeds (no subscription yet: the trends backfill reads it)."""
    async with running_app(trend_settings, clock=FakeClock(NOW), run_jobs=False) as app:
        app.services.delivery.register(RecordingMessenger())
        yield app
