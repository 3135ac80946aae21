"""Telegram channels managed from a private chat, end to end: the real application behind the Telegram
transport, against the local Bot API server with channels, ``getChat`` and ``getChatMember``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.matching import MatchEngine
from bot.core.models import ChatKey
from tests.telegram_server import TgChat, TgUser
from tests.transports.test_telegram_e2e import PUTIN_ARTICLE, World, eventually, running_world

pytestmark = pytest.mark.telegram

CHANNEL_ID = -1001234567890
THIRD_PUTIN_ARTICLE = (
    "date 2024-03-17\n"
    "Putin trifft Xi Jinping in Peking\n\n"
    "Der russische Präsident Wladimir Putin ist am Sonntag in Peking mit Chinas Staatschef Xi Jinping "
    "zusammengekommen. Im Mittelpunkt standen Energielieferungen über eine neue Pipeline und der Handel in "
    "Landeswährung. Beobachter sprachen von einer Achse gegen den Westen.\n"
).encode()
SECOND_PUTIN_ARTICLE = (
    "date 2024-03-16\n"
    "Putin besucht Pjöngjang zum Gegenbesuch\n\n"
    "Wladimir Putin ist am Samstag zu einem Gegenbesuch in Nordkorea eingetroffen. Der Kremlchef wurde am "
    "Flughafen von Kim Jong-Un empfangen. Beide wollen einen Vertrag über strategische Partnerschaft "
    "unterzeichnen, der auch gegenseitige militärische Hilfe vorsieht.\n"
).encode()


@pytest.fixture
async def world(tmp_path: Path, match_engine: MatchEngine) -> AsyncIterator[World]:
    async with running_world(tmp_path, engine=match_engine) as running:
        yield running


def putin_watch(world: World, manager: TgUser, *, bot_can_post: bool = True) -> TgChat:
    """A channel with ``manager`` as its administrator and the bot added as an administrator."""
    channel = world.server.add_channel(CHANNEL_ID, "Putin watch", username="putinwatch")
    world.server.set_member_status(channel, manager, "administrator")
    world.server.set_bot_rights(channel, can_post=bot_can_post)
    return channel


async def managers(world: World) -> int:
    async with world.app.storage.db.conn.execute("SELECT COUNT(*) FROM channel_managers") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def publish(world: World, content: bytes = PUTIN_ARTICLE) -> None:
    admin_chat = world.server.private_chat(world.admin)
    ack = await world.upload(admin_chat, world.admin, filename="putin.txt", content=content)
    assert "Stored 1 new article" in (ack.text or ""), ack.text


async def test_an_administrator_subscribes_a_channel_and_the_alert_is_posted_there(world: World) -> None:
    server, ann = world.server, world.ann
    channel, ann_chat = putin_watch(world, ann), server.private_chat(ann)

    reply = await world.say(ann_chat, ann, "/subscribe @putinwatch Putin")
    assert (reply.text or "").startswith("Channel @putinwatch:\nSubscribed: Putin"), reply.text
    assert await world.queries(channel) == ["Putin"]
    assert await world.queries(ann_chat) == []  # the private chat itself follows nothing
    assert server.bot_messages(channel) == []  # no command echo in the channel

    await publish(world)
    [alert] = await server.wait_for_bot_messages(channel)
    assert "Putin empfängt Kim Jong-Un" in (alert.text or "")
    assert alert.buttons == []  # no Undo/remove buttons under a channel post
    assert len(server.bot_messages(ann_chat)) == 1  # only the reply: the alert went to the channel

    listing = await world.say(ann_chat, ann, "/list @putinwatch")
    assert "Channel @putinwatch:" in (listing.text or "") and "1. Putin" in (listing.text or "")
    channels = await world.say(ann_chat, ann, "/channels")
    assert "@putinwatch" in (channels.text or "") and "1 subscription, active" in (channels.text or "")


async def test_buttons_of_a_channel_reply_act_on_the_channel(world: World) -> None:
    server, ann = world.server, world.ann
    channel, ann_chat = putin_watch(world, ann), server.private_chat(ann)
    await world.say(ann_chat, ann, "/subscribe arms deal")  # the private chat's own subscription
    reply = await world.say(ann_chat, ann, f"/subscribe {CHANNEL_ID} Putin")  # the numeric id works too
    assert await world.queries(channel) == ["Putin"]

    before = len(server.bot_messages(ann_chat))
    server.press_button(ann_chat, ann, reply, "Undo")
    [undone] = (await server.wait_for_bot_messages(ann_chat, before + 1))[before:]
    assert (undone.text or "").startswith("Channel @putinwatch:\nUnsubscribed: Putin"), undone.text
    assert await world.queries(channel) == []
    assert await world.queries(ann_chat) == ["arms deal"]


async def test_a_non_administrator_is_refused_and_nothing_is_stored(world: World) -> None:
    server = world.server
    channel = putin_watch(world, world.ann)
    bob = server.add_user(8, "Bob")
    refused = await world.say(server.private_chat(bob), bob, "/subscribe @putinwatch Putin")
    assert refused.text == "You are not an administrator of @putinwatch, so you cannot manage it here."
    assert await world.chat_row(channel) is None
    assert await managers(world) == 0
    assert server.calls_to("getChatMember")  # asked Telegram, not a cache


async def test_without_the_right_to_post_the_bot_refuses_with_the_explanation(world: World) -> None:
    server, ann = world.server, world.ann
    channel, ann_chat = putin_watch(world, ann, bot_can_post=False), server.private_chat(ann)
    refused = await world.say(ann_chat, ann, "/subscribe @putinwatch Putin")
    assert refused.text == (
        "I cannot post in @putinwatch: make me an administrator with the right to post messages, then try again."
    )
    assert await world.chat_row(channel) is None and await managers(world) == 0

    server.set_bot_rights(channel, status="left")  # not in the channel at all: the same explanation
    again = await world.say(ann_chat, ann, "/mode @putinwatch daily 08:00")
    assert (again.text or "").startswith("I cannot post in @putinwatch")
    unknown = await world.say(ann_chat, ann, "/list @nosuchchannel")
    assert (unknown.text or "").startswith("I cannot find @nosuchchannel.")
    assert await world.chat_row(channel) is None

    server.chats[-100555] = TgChat(-100555, "supergroup", title="Desk", username="deskgroup")
    group = await world.say(ann_chat, ann, "/subscribe @deskgroup Putin")
    assert group.text == "@deskgroup is not a channel. A group is managed with commands sent in the group itself."
    assert await world.chat_row(-100555) is None


async def test_every_settings_command_takes_the_channel(world: World) -> None:
    server, ann = world.server, world.ann
    channel, ann_chat = putin_watch(world, ann), server.private_chat(ann)
    for line in (
        "/mode @putinwatch daily 07:30",
        "/timezone @putinwatch Europe/Berlin",
        f"/quiet {CHANNEL_ID} 22:00-06:00",
        "/lang @putinwatch de",
    ):
        reply = await world.say(ann_chat, ann, line)
        assert (reply.text or "").startswith(("Channel @putinwatch:", "Kanal @putinwatch:")), (line, reply.text)
    row = await world.chat_row(channel)
    assert row is not None
    assert (row.mode.value, row.digest_time, row.timezone) == ("daily", "07:30", "Europe/Berlin")
    assert (row.quiet_start, row.quiet_end, row.lang) == ("22:00", "06:00", "de")
    private = await world.chat_row(ann_chat)
    assert private is None or (private.mode.value, private.lang) == ("instant", "en")


async def test_removal_pauses_the_channel_and_the_manager_is_told_once(world: World) -> None:
    server, ann = world.server, world.ann
    channel, ann_chat = putin_watch(world, ann), server.private_chat(ann)
    await world.say(ann_chat, ann, "/subscribe @putinwatch Putin")

    server.remove_bot(channel, by=ann)
    [_, notice] = await server.wait_for_bot_messages(ann_chat, 2)
    assert (notice.text or "").startswith("Alerts for @putinwatch are paused"), notice.text
    assert "/list @putinwatch" in (notice.text or "")
    row = await world.chat_row(channel)
    assert row is not None and not row.active
    assert await world.queries(channel) == ["Putin"]  # kept

    await publish(world)
    await world.say(ann_chat, ann, "/channels")  # a round trip after the article: delivery had its chance
    assert server.bot_messages(channel) == []
    assert len([m for m in server.bot_messages(ann_chat) if "are paused" in (m.text or "")]) == 1


async def test_losing_the_right_to_post_pauses_and_getting_it_back_resumes(world: World) -> None:
    server, ann = world.server, world.ann
    channel, ann_chat = putin_watch(world, ann), server.private_chat(ann)
    await world.say(ann_chat, ann, "/subscribe @putinwatch Putin")

    server.set_bot_rights(channel, can_post=False, by=ann)
    await server.wait_for_bot_messages(ann_chat, 2)
    assert not (await world.chat_row(channel)).active

    server.set_bot_rights(channel, can_post=True, by=ann)

    async def active() -> bool:
        row = await world.chat_row(channel)
        return row is not None and row.active

    await eventually(active, what="the channel to resume")
    await publish(world)
    [alert] = await server.wait_for_bot_messages(channel)
    assert "Putin empfängt Kim Jong-Un" in (alert.text or "")


async def test_a_send_failure_in_the_channel_pauses_it_and_tells_the_manager(world: World) -> None:
    server, ann = world.server, world.ann
    channel, ann_chat = putin_watch(world, ann), server.private_chat(ann)
    await world.say(ann_chat, ann, "/subscribe @putinwatch Putin")
    server.set_bot_rights(channel, can_post=False)  # silently: Telegram sent no update
    await publish(world)
    [_, notice] = await server.wait_for_bot_messages(ann_chat, 2)
    assert "paused" in (notice.text or "")
    assert not (await world.chat_row(channel)).active
    assert server.bot_messages(channel) == []


async def test_commands_posted_in_the_channel_are_ignored(world: World) -> None:
    server, ann = world.server, world.ann
    channel, ann_chat = putin_watch(world, ann), server.private_chat(ann)
    server.post_in_channel(channel, "/subscribe Putin")
    await world.say(ann_chat, ann, "/channels")  # a round trip: the bot has polled past the channel post
    assert server.bot_messages(channel) == []
    assert await world.chat_row(channel) is None


async def test_stats_count_channels(world: World) -> None:
    server, ann = world.server, world.ann
    putin_watch(world, ann)
    await world.say(server.private_chat(ann), ann, "/subscribe @putinwatch Putin")
    stats = await world.say(server.private_chat(world.admin), world.admin, "/stats")
    assert "Telegram: 1 channels, 0 forum topics" in (stats.text or ""), stats.text
    assert await world.app.storage.chats.get_by_key(ChatKey("telegram", str(CHANNEL_ID))) is not None


async def test_a_capped_digest_in_the_channel_keeps_a_working_more_button(tmp_path: Path) -> None:
    async with running_world(tmp_path, app_settings={"digest_cap": 1}) as world:
        server, ann = world.server, world.ann
        channel, ann_chat = putin_watch(world, ann), server.private_chat(ann)
        await world.say(ann_chat, ann, "/subscribe @putinwatch Putin")
        await world.say(ann_chat, ann, "/mode @putinwatch hourly")
        for content in (PUTIN_ARTICLE, SECOND_PUTIN_ARTICLE, THIRD_PUTIN_ARTICLE):
            await publish(world, content)

        reply = await world.say(ann_chat, ann, "/digest @putinwatch")
        assert "2 more are waiting" in (reply.text or ""), reply.text
        [digest] = await server.wait_for_bot_messages(channel)
        assert len(digest.button_labels) == 1  # "more", and nothing that only makes sense in a private chat

        server.press_button(channel, ann, digest, digest.button_labels[0])
        [_, second] = await server.wait_for_bot_messages(channel, 2)
        assert len(second.button_labels) == 1  # one more is still waiting
        await world.say(ann_chat, ann, "/channels")  # a round trip: no reply to the button press followed
        assert len(server.bot_messages(channel)) == 2  # no "1 more are waiting" echoed into the channel

        server.press_button(channel, ann, second, second.button_labels[0])
        [*_, last] = await server.wait_for_bot_messages(channel, 3)
        assert last.buttons == []
        shown = "".join(m.text or "" for m in server.bot_messages(channel))
        for title in ("Putin empfängt Kim Jong-Un", "Putin besucht Pjöngjang", "Putin trifft Xi Jinping"):
            assert title in shown
