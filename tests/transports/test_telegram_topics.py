"""Forum topics end to end: in a forum supergroup every topic is its own subscriber — commands, replies,
alerts and digests stay in their topic (``message_thread_id``), and a closed or deleted topic pauses only
itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.matching import MatchEngine
from bot.core.models import ChatKey
from tests.telegram_server import StoredMessage, TgChat, TgUser
from tests.transports.test_telegram_channels import SECOND_PUTIN_ARTICLE
from tests.transports.test_telegram_e2e import PUTIN_ARTICLE, World, eventually, running_world

pytestmark = pytest.mark.telegram

FORUM_ID = -1009876543210


@pytest.fixture
async def world(tmp_path: Path, match_engine: MatchEngine) -> AsyncIterator[World]:
    async with running_world(tmp_path, engine=match_engine) as running:
        yield running


def newsroom(world: World) -> tuple[TgChat, TgUser]:
    """A forum with topics 7 (Russia desk) and 9 (Korea desk) and an administrator."""
    server = world.server
    forum = server.add_forum(FORUM_ID, "Newsroom")
    boss = server.add_user(9, "Boss")
    server.set_member_status(forum, boss, "administrator")
    server.add_topic(forum, 7, "Russia desk", by=boss)
    server.add_topic(forum, 9, "Korea desk", by=boss)
    return forum, boss


async def say_in_topic(world: World, forum: TgChat, user: TgUser, thread: int | None, text: str) -> StoredMessage:
    """Send a command in a topic; the bot's next message in the forum, wherever it went."""
    before = len(world.server.bot_messages(forum))
    world.server.user_sends(forum, user, text, thread_id=thread)
    return (await world.server.wait_for_bot_messages(forum, before + 1))[before]


async def topic_queries(world: World, thread: int | None) -> list[str]:
    chat_id = f"{FORUM_ID}/{thread}" if thread is not None else str(FORUM_ID)
    row = await world.app.storage.chats.get_by_key(ChatKey("telegram", chat_id))
    return [] if row is None else [s.query for s in await world.app.services.subscriptions.list(row)]


async def topic_active(world: World, thread: int) -> bool:
    row = await world.app.storage.chats.get_by_key(ChatKey("telegram", f"{FORUM_ID}/{thread}"))
    return row is not None and row.active


async def publish(world: World, content: bytes) -> None:
    admin_chat = world.server.private_chat(world.admin)
    ack = await world.upload(admin_chat, world.admin, filename="article.txt", content=content)
    assert "Stored 1 new article" in (ack.text or ""), ack.text


async def test_a_topic_subscribes_on_its_own_and_the_alert_arrives_in_it(world: World) -> None:
    server = world.server
    forum, boss = newsroom(world)

    reply = await say_in_topic(world, forum, boss, 7, "/subscribe Putin")
    assert reply.thread_id == 7 and (reply.text or "").startswith("Subscribed: Putin"), reply.text
    kim = await say_in_topic(world, forum, boss, 9, "/subscribe arms deal")
    assert kim.thread_id == 9
    assert await topic_queries(world, 7) == ["Putin"]
    assert await topic_queries(world, 9) == ["arms deal"]
    assert await topic_queries(world, None) == []  # General is the group itself, and follows nothing

    listing = await say_in_topic(world, forum, world.ann, 9, "/list")  # everyone may read, in their topic
    assert listing.thread_id == 9 and "arms deal" in (listing.text or "") and "Putin" not in (listing.text or "")
    general = await say_in_topic(world, forum, world.ann, None, "/list")
    assert general.thread_id is None and "follows nothing" in (general.text or "")

    await publish(world, PUTIN_ARTICLE)
    await server.wait_for(lambda: len(server.topic_bot_messages(forum, 7)) == 2, what="the alert in topic 7")
    alert = server.topic_bot_messages(forum, 7)[-1]
    assert "Putin empfängt Kim Jong-Un" in (alert.text or "")
    assert len(server.topic_bot_messages(forum, 9)) == 2  # its subscribe reply and its list only


async def test_in_a_topic_only_chat_admins_change_subscriptions(world: World) -> None:
    forum, _ = newsroom(world)
    refused = await say_in_topic(world, forum, world.ann, 7, "/subscribe Putin")
    assert refused.thread_id == 7 and "only chat admins" in (refused.text or "")
    assert await topic_queries(world, 7) == []


async def test_buttons_in_a_topic_act_on_that_topic(world: World) -> None:
    server = world.server
    forum, boss = newsroom(world)
    await say_in_topic(world, forum, boss, 9, "/subscribe Putin")
    reply = await say_in_topic(world, forum, boss, 7, "/subscribe Putin")
    before = len(server.bot_messages(forum))
    server.press_button(forum, boss, reply, "Undo")
    [undone] = (await server.wait_for_bot_messages(forum, before + 1))[before:]
    assert undone.thread_id == 7 and (undone.text or "").startswith("Unsubscribed: Putin")
    assert await topic_queries(world, 7) == [] and await topic_queries(world, 9) == ["Putin"]


async def test_a_deleted_topic_pauses_only_that_topic(world: World) -> None:
    server = world.server
    forum, boss = newsroom(world)
    await say_in_topic(world, forum, boss, 7, "/subscribe Putin")
    await say_in_topic(world, forum, boss, 9, "/subscribe Putin")
    await say_in_topic(world, forum, boss, None, "/subscribe Putin")
    server.delete_topic(forum, 7)

    await publish(world, PUTIN_ARTICLE)
    await server.wait_for(lambda: len(server.topic_bot_messages(forum, 9)) == 2, what="the alert in topic 9")
    await server.wait_for(lambda: len(server.topic_bot_messages(forum, None)) == 2, what="the alert in General")
    await eventually(lambda: _paused(world, 7), what="topic 7 to pause")
    assert await topic_active(world, 9)
    assert await topic_queries(world, 7) == ["Putin"]  # kept
    assert len(server.topic_bot_messages(forum, 7)) == 1  # its subscribe reply only


async def test_a_closed_topic_pauses_and_resumes_when_someone_writes_in_it(world: World) -> None:
    server = world.server
    forum, boss = newsroom(world)
    await say_in_topic(world, forum, boss, 7, "/subscribe Putin")
    server.close_topic(forum, 7, by=boss)

    await publish(world, PUTIN_ARTICLE)
    await eventually(lambda: _paused(world, 7), what="the closed topic to pause")
    assert len(server.topic_bot_messages(forum, 7)) == 1

    server.reopen_topic(forum, 7, by=boss)
    await eventually(lambda: topic_active(world, 7), what="the reopened topic to resume")
    await publish(world, SECOND_PUTIN_ARTICLE)
    await server.wait_for(lambda: len(server.topic_bot_messages(forum, 7)) == 2, what="the next alert in topic 7")
    assert "Putin besucht Pjöngjang" in (server.topic_bot_messages(forum, 7)[-1].text or "")


async def test_stats_count_forum_topics(world: World) -> None:
    forum, boss = newsroom(world)
    await say_in_topic(world, forum, boss, 7, "/subscribe Putin")
    await say_in_topic(world, forum, boss, 9, "/subscribe Putin")
    admin_chat = world.server.private_chat(world.admin)
    stats = await world.say(admin_chat, world.admin, "/stats")
    assert "Telegram: 0 channels, 2 forum topics" in (stats.text or ""), stats.text


async def _paused(world: World, thread: int) -> bool:
    return not await topic_active(world, thread)


async def test_removing_the_bot_from_the_forum_pauses_every_topic(world: World) -> None:
    forum, boss = newsroom(world)
    await say_in_topic(world, forum, boss, 7, "/subscribe Putin")
    await say_in_topic(world, forum, boss, 9, "/subscribe Putin")
    world.server.remove_bot(forum, by=boss)
    await eventually(lambda: _paused(world, 7), what="topic 7 to pause with its group")
    await eventually(lambda: _paused(world, 9), what="topic 9 to pause with its group")
    assert await topic_queries(world, 7) == ["Putin"] and await topic_queries(world, 9) == ["Putin"]
