"""The delivery tests' shared set-up: an app on a controllable clock, its jobs run by the tests themselves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.app import App, running_app
from bot.core.clock import FakeClock
from config.settings import Settings
from tests.fakes import RecordingMessenger

START = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # the day before Europe/Berlin moves to summer time


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def timed_app(settings: Settings, messenger: RecordingMessenger, clock: FakeClock) -> AsyncIterator[App]:
    """No background scheduler (``run_jobs=False``): on a fake clock it would run overdue jobs beside the test."""
    async with running_app(settings, clock=clock, load_seeds=False, run_jobs=False) as running:
        running.services.delivery.register(messenger)
        yield running
