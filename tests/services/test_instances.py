"""Two applications on one PostgreSQL database, in one process: one leads, the other takes over when it stops
(the lock is released at shutdown, not left to a timeout), and a subscription taken on one instance matches
what the other ingests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import App, running_app
from bot.core.alerts.schedule import next_digest_at
from bot.core.models import ChatKey
from config.settings import Settings
from tests.fakes import RecordingMessenger, command
from tests.services.test_delivery import subscribe, visit


@pytest.fixture
def pg_settings(tmp_path: Path, pg_database_url: str) -> Settings:
    """PostgreSQL only (several instances need it), so not the two-backend ``settings`` fixture."""
    return Settings(db_path=tmp_path / "unused.db", database_url=pg_database_url, seeds_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]


async def until(check: Callable[[], bool], within: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def scheduler_running(app: App) -> bool:
    return bool(app.services.scheduler._scheduler.running)


async def test_one_instance_leads_and_the_other_takes_over_when_it_stops(pg_settings: Settings) -> None:
    async with running_app(pg_settings, load_seeds=False) as first:
        await until(lambda: scheduler_running(first))
        async with running_app(pg_settings, load_seeds=False) as second:
            await asyncio.sleep(0.5)  # the follower retries every 2 s; it must not have started anything
            assert not scheduler_running(second)
            await first.stop_leading()  # what shutdown does first: receivers stopped, lock released
            assert not scheduler_running(first)
            await until(lambda: scheduler_running(second), within=10)


async def test_a_subscription_taken_on_one_instance_matches_on_the_other(pg_settings: Settings) -> None:
    messenger = RecordingMessenger()
    async with (
        running_app(pg_settings, load_seeds=False) as first,
        running_app(pg_settings, load_seeds=False) as second,
    ):
        for app in (first, second):
            app.services.delivery.register(messenger)
        await subscribe(second, "Putin", chat_id="on-second")
        assert await first.pipeline.sync() == 1
        assert await first.pipeline.sync() == 0  # nothing new: nothing compiled again
        await first.services.ingest.ingest_items([visit("Hanoi")])
        texts = await messenger.wait_for(lambda t: len(t) == 1)
        assert texts[0].splitlines()[0] == "Putin besucht Hanoi"
        assert [chat for chat, _ in messenger.sent] == ["on-second"]


async def test_a_digest_setting_changed_on_a_follower_is_planned_by_the_leader(pg_settings: Settings) -> None:
    """Webhooks let any instance take ``/mode``; only the leader's scheduler fires digests, so it follows the
    stored settings (``ensure_planned``, every REPLAN_SECONDS) rather than its own old job."""
    async with running_app(pg_settings, load_seeds=False) as leader:
        await until(lambda: scheduler_running(leader))
        async with running_app(pg_settings, load_seeds=False) as follower:
            scheduler = leader.services.scheduler
            assert scheduler is not None
            for mode in ("daily 08:00", "daily 18:30", "hourly"):
                await follower.handle(command(f"/mode {mode}", chat_id="newsroom"))
                chat = await leader.storage.chats.get_by_key(ChatKey("fake", "newsroom"))
                assert chat is not None
                await scheduler.ensure_planned()
                expected = next_digest_at(chat.mode, chat.digest_time, chat.timezone, datetime.now(UTC))
                assert scheduler.planned(chat.id) == expected, mode
            await follower.handle(command("/mode instant", chat_id="newsroom"))
            await scheduler.ensure_planned()
            assert scheduler.planned(chat.id) is None
