"""Fixtures: a local feed server, a real temporary SQLite, the real IngestService with a recording alert
listener, a controllable clock and a FeedService wired to all of them."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.clock import FakeClock
from bot.core.feeds.urls import IPAddress
from bot.core.models import Article
from bot.services.feeds import FeedService
from bot.services.ingest import IngestService
from bot.storage.store import Storage
from config.settings import FeedSettings
from tests.feeds.feedserver import FeedServer

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@dataclass
class Recorder:
    """Stands in for matching/delivery behind IngestService: records which article ids were alerted."""

    alerted: list[int] = field(default_factory=list)
    admin_messages: list[str] = field(default_factory=list)

    async def on_new(self, articles: list[Article]) -> None:
        self.alerted.extend(a.id for a in articles)

    async def notify(self, text: str) -> None:
        self.admin_messages.append(text)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        yield srv


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    store = await Storage.open(tmp_path / "feeds.db")
    yield store
    await store.close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def feed_settings() -> FeedSettings:
    return FeedSettings(
        poll_seconds=600,
        backfill_hours=24,
        allow_private_hosts=True,
        max_bytes=100_000,
        timeout_seconds=2.0,
        max_failures=3,
    )


@pytest.fixture
async def make_service(
    storage: Storage, clock: FakeClock, recorder: Recorder
) -> AsyncIterator[Callable[..., Awaitable[FeedService]]]:
    """Build (and later close) FeedServices with chosen settings or address policy."""
    started: list[FeedService] = []

    async def build(
        settings: FeedSettings, policy: Callable[[IPAddress], str | None] | None = None
    ) -> FeedService:
        ingest = IngestService(storage, clock, recorder.on_new)
        service = FeedService(
            storage, settings, ingest, clock, recorder.notify, address_policy=policy, rng=random.Random(7)
        )
        await service.start()
        started.append(service)
        return service

    yield build
    for service in started:
        await service.close()


@pytest.fixture
async def service(
    make_service: Callable[..., Awaitable[FeedService]], feed_settings: FeedSettings
) -> FeedService:
    return await make_service(feed_settings)
