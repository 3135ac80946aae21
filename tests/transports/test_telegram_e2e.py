"""End to end: the real application (storage, matching, handlers, delivery) behind the Telegram transport,
driven through the local Bot API server as Telegram users would drive it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, running_app
from bot.core.matching import MatchEngine
from bot.core.models import ChatKey
from config.settings import Settings, TelegramSettings
from tests.telegram_server import BotApiServer, Fault, StoredMessage, TgChat, TgUser
from tests.waiting import eventually

pytestmark = pytest.mark.telegram

REPO = Path(__file__).resolve().parents[2]
ADMIN_ID = 42
PUTIN_ARTICLE = (
    "date 2024-03-15\n"
    "Putin empfängt Kim Jong-Un zu Gesprächen über Waffenlieferungen\n\n"
    "Das Wichtigste in Kürze\n"
    "Kremlchef Wladimir Putin hat den nordkoreanischen Machthaber Kim Jong-Un in Moskau empfangen.\n"
    "Beide Seiten vereinbarten eine engere militärische Zusammenarbeit.\n\n"
    "Wladimir Putin hat am Freitag im Kreml den nordkoreanischen Machthaber empfangen. Nach Angaben des "
    "Kremls ging es um Munition, Raketen und Nahrungsmittelhilfe. Westliche Regierungen warnten vor einem "
    "Waffengeschäft, das gegen Sanktionen des UN-Sicherheitsrats verstoßen würde.\n"
).encode()


@dataclass(slots=True)
class World:
    server: BotApiServer
    app: App
    admin: TgUser
    ann: TgUser

    async def chat_row(self, chat: TgChat | int) -> Any:
        chat_id = chat if isinstance(chat, int) else chat.id
        return await self.app.storage.chats.get_by_key(ChatKey("telegram", str(chat_id)))

    async def queries(self, chat: TgChat | int) -> list[str]:
        row = await self.chat_row(chat)
        if row is None:
            return []
        return [s.query for s in await self.app.services.subscriptions.list(row)]

    async def say(self, chat: TgChat, user: TgUser, text: str) -> StoredMessage:
        """Send a command and return the bot's first new message in that chat."""
        before = len(self.server.bot_messages(chat))
        self.server.user_sends(chat, user, text)
        return (await self.server.wait_for_bot_messages(chat, before + 1))[before]

    async def upload(self, chat: TgChat, user: TgUser, **document: Any) -> StoredMessage:
        before = len(self.server.bot_messages(chat))
        self.server.user_sends_document(chat, user, caption="/addseed", **document)
        return (await self.server.wait_for_bot_messages(chat, before + 1))[before]


@asynccontextmanager
async def running_world(
    tmp_path: Path,
    *,
    send_rate_limit: float | None = None,
    app_settings: dict[str, Any] | None = None,
    engine: MatchEngine | None = None,
    **telegram: Any,
) -> AsyncIterator[World]:
    """``app_settings``: further :class:`Settings` values (e.g. ``digest_cap``); ``telegram``: Telegram ones;
    ``engine``: the session's matching engine (else the app loads its own: a third of a CPU-second)."""
    async with BotApiServer(send_rate_limit=send_rate_limit) as server:
        values: dict[str, Any] = {
            "token": server.token,
            "api_base_url": f"http://127.0.0.1:{server.port}/bot",
            "file_base_url": f"http://127.0.0.1:{server.port}/file/bot",
            "admin_ids": [ADMIN_ID],
            "poll_timeout": 5,
        }
        values.update(telegram)
        settings = Settings(
            db_path=tmp_path / "db.sqlite",
            seeds_dir=REPO / "seeds",
            telegram=TelegramSettings(**values),
            **(app_settings or {}),
        )
        async with running_app(settings, engine=engine) as app:
            yield World(
                server,
                app,
                admin=server.add_user(ADMIN_ID, "Ada", language_code="en"),
                ann=server.add_user(7, "Ann", language_code="en"),
            )


@pytest.fixture
async def world(tmp_path: Path, match_engine: MatchEngine) -> AsyncIterator[World]:
    async with running_world(tmp_path, engine=match_engine) as running:
        yield running


async def test_subscribe_then_an_admin_upload_alerts_the_subscriber(world: World) -> None:
    server, ann_chat = world.server, world.server.private_chat(world.ann)
    reply = await world.say(ann_chat, world.ann, "/subscribe Putin")
    assert reply.text is not None and reply.text.startswith("Subscribed: Putin")
    assert await world.queries(ann_chat) == ["Putin"]

    admin_chat = server.private_chat(world.admin)
    ack = await world.upload(admin_chat, world.admin, filename="putin.txt", content=PUTIN_ARTICLE)
    assert ack.text is not None and "Stored 1 new article" in ack.text, ack.text

    messages = await server.wait_for_bot_messages(ann_chat, 2)
    alert = messages[1].text or ""
    assert "Putin empfängt Kim Jong-Un" in alert
    assert "\n• " in alert
    assert messages[1].link_preview_disabled is True
    assert len(server.calls_to("getFile")) == 1


async def test_in_a_group_members_are_refused_and_administrators_allowed(world: World) -> None:
    server = world.server
    group = server.add_group(-555, "Newsroom")
    boss = server.add_user(9, "Boss")
    server.set_member_status(group, boss, "administrator")

    refused = await world.say(group, world.ann, "/subscribe Putin")
    assert refused.text is not None and "only chat admins" in refused.text
    accepted = await world.say(group, boss, "/subscribe@newsalert_test_bot Putin")
    assert accepted.text is not None and accepted.text.startswith("Subscribed: Putin")
    listing = await world.say(group, world.ann, "/list")  # everyone may read
    assert "Putin" in (listing.text or "")
    assert await world.queries(group) == ["Putin"]


async def test_list_buttons_unsubscribe_and_forged_data_is_refused(world: World) -> None:
    server, chat = world.server, world.server.private_chat(world.ann)
    await world.say(chat, world.ann, "/subscribe Putin")
    await world.say(chat, world.ann, "/subscribe arms deal")
    listing = await world.say(chat, world.ann, "/list")
    assert len(listing.button_labels) == 2

    genuine = listing.buttons[0][0]["callback_data"]
    forged = server.send_callback(chat, world.ann, listing, genuine[:-1] + ("2" if genuine[-1] != "2" else "3"))
    answer = await server.wait_for_callback_answer(forged)
    assert answer["text"] == "This button is no longer valid. Please run the command again."
    assert sorted(await world.queries(chat)) == ["Putin", "arms deal"]

    before = len(server.bot_messages(chat))
    pressed = server.press_button(chat, world.ann, listing, listing.button_labels[0])
    assert (await server.wait_for_callback_answer(pressed))["text"] is None
    [confirmation] = (await server.wait_for_bot_messages(chat, before + 1))[before:]
    assert (confirmation.text or "").startswith("Unsubscribed")
    assert len(await world.queries(chat)) == 1


async def test_uploads_by_non_admins_oversized_and_binary_files_are_refused(world: World) -> None:
    server = world.server
    ann_chat = server.private_chat(world.ann)
    refusal = await world.upload(ann_chat, world.ann, filename="putin.txt", content=PUTIN_ARTICLE)
    assert refusal.text == "Only bot admins can use /addseed."
    assert server.calls_to("getFile") == [] and server.calls_to("download") == []

    admin_chat = server.private_chat(world.admin)
    too_big = await world.upload(
        admin_chat, world.admin, filename="big.txt", content=b"x", declared_size=6 * 1024 * 1024
    )
    assert "over the 5.0 MB upload limit" in (too_big.text or "")
    assert server.calls_to("getFile") == []

    binary = await world.upload(
        admin_chat,
        world.admin,
        filename="photo.txt",
        content=bytes(range(256)) * 8,
        mime_type="application/octet-stream",
    )
    assert "0 new article" in (binary.text or "") and "1 rejected" in (binary.text or ""), binary.text
    unsupported = await world.upload(admin_chat, world.admin, filename="run.exe", content=b"MZ\x90\x00")
    assert "unsupported file type" in (unsupported.text or "")


async def test_a_blocked_bot_deactivates_the_chat(world: World) -> None:
    server = world.server
    ann_chat = server.private_chat(world.ann)
    await world.say(ann_chat, world.ann, "/subscribe Putin")
    server.block_bot(world.ann)
    await eventually(lambda: _inactive(world, ann_chat), what="the blocked chat to be deactivated")


async def test_a_403_on_delivery_deactivates_the_chat(world: World) -> None:
    server = world.server
    bob = server.add_user(8, "Bob")
    bob_chat = server.private_chat(bob)
    await world.say(bob_chat, bob, "/subscribe Putin")
    server.inject(Fault.blocked(), chat=bob_chat)
    await world.upload(server.private_chat(world.admin), world.admin, filename="p.txt", content=PUTIN_ARTICLE)
    await eventually(lambda: _inactive(world, bob_chat), what="the chat that answered 403 to be deactivated")
    assert len(server.bot_messages(bob_chat)) == 1  # only the subscribe confirmation


async def test_group_migration_keeps_the_subscriptions_under_the_new_id(world: World) -> None:
    server = world.server
    group = server.add_group(-777, "Desk")
    boss = server.add_user(9, "Boss")
    server.set_member_status(group, boss, "administrator")
    await world.say(group, boss, "/subscribe Putin")

    supergroup = server.migrate_group(group, boss)

    async def moved() -> bool:
        return await world.queries(supergroup) == ["Putin"] and await world.chat_row(group) is None

    await eventually(moved, what="the subscriptions to follow the supergroup")
    await world.upload(server.private_chat(world.admin), world.admin, filename="p.txt", content=PUTIN_ARTICLE)
    [alert] = await server.wait_for_bot_messages(supergroup)
    assert "Putin empfängt Kim Jong-Un" in (alert.text or "")


async def test_500_chat_fan_out_under_429s_arrives_complete_once_each(tmp_path: Path) -> None:
    async with running_world(tmp_path, send_rate_limit=400, global_rate=300.0) as world:
        server, app = world.server, world.app
        chats = []
        for n in range(500):
            chat = server.private_chat(server.add_user(10_000 + n, f"Reader {n}"))
            row, _ = await app.storage.chats.get_or_create(ChatKey("telegram", str(chat.id)), app.services.clock.now())
            await app.services.subscriptions.subscribe(row, "Putin")
            chats.append(chat)
        server.inject(Fault.flood(1), count=3)
        server.inject(Fault.flood(2), chat=chats[300])

        await world.upload(server.private_chat(world.admin), world.admin, filename="p.txt", content=PUTIN_ARTICLE)
        await server.wait_for(lambda: all(server.bot_messages(chat) for chat in chats), within=180, what="500 alerts")
        counts = [len(server.bot_messages(chat)) for chat in chats]
        assert counts == [1] * 500
        assert all("Putin empfängt Kim Jong-Un" in (server.bot_messages(c)[0].text or "") for c in chats)
        assert sum(1 for a in server.attempts if a.status == 429) >= 4
        assert server.early_sends() == []


async def _inactive(world: World, chat: TgChat) -> bool:
    row = await world.chat_row(chat)
    return row is not None and not row.active
