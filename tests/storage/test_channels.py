"""Channel managers and forum topic rows, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.models import ChatKey
from bot.storage.store import Storage

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)


async def test_managers_are_recorded_once_and_listed_per_user(storage: Storage) -> None:
    desk, _ = await storage.chats.get_or_create(ChatKey("telegram", "-1001"), NOW, is_group=True, title="@desk")
    watch, _ = await storage.chats.get_or_create(ChatKey("telegram", "-1002"), NOW, is_group=True, title="@watch")
    await storage.channels.add_manager(desk.id, "7", "en", NOW)
    await storage.channels.add_manager(watch.id, "7", "en", NOW + timedelta(seconds=1))
    await storage.channels.add_manager(desk.id, "7", "de", NOW + timedelta(seconds=2))  # again: language refreshed
    await storage.channels.add_manager(desk.id, "8", "en", NOW + timedelta(seconds=3))

    assert await storage.channels.managed_by("telegram", "7") == [desk.id, watch.id]
    assert await storage.channels.managed_by("matrix", "7") == []
    assert [(m.user_id, m.lang) for m in await storage.channels.managers(desk.id)] == [("7", "de"), ("8", "en")]
    assert (await storage.channels.counts()).channels == 2
    await storage.chats.set_active(watch.id, False)
    assert (await storage.channels.counts()).channels == 1  # a paused channel is not counted


async def test_topic_rows_of_a_group_and_nothing_else(storage: Storage) -> None:
    for chat_id in ("-1005", "-1005/7", "-1005/9", "-10055/7", "-1006/7"):
        await storage.chats.get_or_create(ChatKey("telegram", chat_id), NOW, is_group=True)
    await storage.chats.get_or_create(ChatKey("matrix", "-1005/3"), NOW)
    topics = await storage.chats.get_many(await storage.channels.topic_ids(ChatKey("telegram", "-1005")))
    assert sorted(c.chat_id for c in topics.values()) == ["-1005/7", "-1005/9"]
    assert (await storage.channels.counts()).topics == 5  # every row with a thread part, on any platform
    assert await storage.channels.topic_ids(ChatKey("telegram", "-1005/7")) == []
