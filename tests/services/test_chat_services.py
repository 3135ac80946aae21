"""The services handlers call for chat settings, the archive and admin notices: real SQLite, a real scheduler
(planning only, its jobs do not fire) and recording messengers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time

import pytest

from bot.app import App, running_app
from bot.core.clock import FakeClock
from bot.core.messaging import OutgoingMessage, Sent, TransientError
from bot.core.models import Chat, ChatKey, Mode
from bot.services.notify import AdminNotifier
from config.settings import Settings
from tests.fakes import RecordingMessenger

START = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
async def planned_app(settings: Settings) -> AsyncIterator[App]:
    async with running_app(settings, clock=FakeClock(START), load_seeds=False, run_jobs=False) as app:
        yield app


async def _chat(app: App) -> Chat:
    return await app.services.chats.open(ChatKey("fake", "c1"), START, lang="en", is_group=False, title=None)


async def test_a_digest_mode_is_stored_and_planned_and_instant_unplans(planned_app: App) -> None:
    services = planned_app.services
    chat = await services.chat_settings.set_mode(await _chat(planned_app), Mode.DAILY, time(8, 0), START)
    assert (chat.mode, chat.digest_time) == (Mode.DAILY, "08:00")
    assert services.scheduler.planned(chat.id) == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    stored = await services.chats.find(chat.key)
    assert stored is not None and stored.last_digest_at == START  # digests count from the switch
    await services.chat_settings.set_mode(chat, Mode.INSTANT, None, START)
    assert services.scheduler.planned(chat.id) is None


async def test_a_new_time_zone_replans_the_digest(planned_app: App) -> None:
    services = planned_app.services
    chat = await services.chat_settings.set_mode(await _chat(planned_app), Mode.DAILY, time(8, 0), START)
    moved = await services.chat_settings.set_timezone(chat, "Europe/Berlin")
    assert moved.timezone == "Europe/Berlin"
    assert services.scheduler.planned(chat.id) == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # 08:00 CEST


async def test_quiet_hours_and_language_are_stored(planned_app: App) -> None:
    services = planned_app.services
    chat = await services.chat_settings.set_quiet(await _chat(planned_app), (time(22, 0), time(7, 0)))
    assert (chat.quiet_start, chat.quiet_end) == ("22:00", "07:00")
    chat = await services.chat_settings.set_quiet(chat, None)
    assert (chat.quiet_start, chat.quiet_end) == (None, None)
    assert (await services.chat_settings.set_lang(chat, "de")).lang == "de"
    with pytest.raises(ValueError):
        await services.chat_settings.set_lang(chat, "fr")
    assert (await services.chats.find(chat.key)).lang == "de"  # type: ignore[union-attr]


async def test_archive_stats_count_what_is_stored(planned_app: App) -> None:
    await _chat(planned_app)
    stats = await planned_app.services.archive.stats()
    assert (stats.articles, stats.active_chats, stats.subscriptions, stats.outbox) == (0, 1, 0, {})
    assert await planned_app.services.archive.latest(3) == []


class Unreachable(RecordingMessenger):
    async def send(self, chat_id: str, message: OutgoingMessage) -> Sent:
        raise TransientError("network down")


async def test_admin_notices_reach_every_registered_admin_despite_one_failing() -> None:
    notifier = AdminNotifier()
    broken, console, nobody = Unreachable(platform="telegram"), RecordingMessenger(), RecordingMessenger()
    notifier.register(broken, ["1"])
    notifier.register(console, ["local", "2"])
    notifier.register(nobody, [])
    await notifier.notify("feed 3 keeps failing")
    assert [(c, m.html) for c, m in console.sent] == [("local", "feed 3 keeps failing"), ("2", "feed 3 keeps failing")]
    assert nobody.sent == []
