"""A non-admin tries every admin command on Telegram, through the Bot API test server, in a private chat and
in a group where they are a chat administrator (chat rights are not bot rights): each is refused with the
reason, no file is downloaded, no feed is fetched, and the database is exactly as before. The same commands
from the bot admin then do work, so the probe can see downloads and changes when they happen.
(The Matrix half is in ``test_matrix_reliability.py``.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import App, running_app
from config.settings import FeedSettings, Settings, TelegramSettings
from tests.feeds.feedserver import FeedServer, Route
from tests.feeds.samples import Item, rss, story
from tests.reliability.support import (
    ADMIN_REFUSAL,
    admin_arguments,
    admin_commands,
    admin_upload,
    changed_tables,
    record_fetches,
    snapshot,
)
from tests.telegram_server import BotApiServer, StoredMessage, TgChat, TgUser

pytestmark = [pytest.mark.reliability, pytest.mark.telegram]

ADMIN_ID = 42
FEED_PATH = "/probe.xml"


@dataclass(slots=True)
class World:
    server: BotApiServer
    feeds: FeedServer
    app: App
    admin: TgUser
    ann: TgUser

    async def reply_to(self, chat: TgChat, send: object) -> StoredMessage:
        """Run ``send`` (which makes the user write) and return the bot's next message in that chat."""
        before = len(self.server.bot_messages(chat))
        send()  # type: ignore[operator]
        return (await self.server.wait_for_bot_messages(chat, before + 1))[before]

    async def say(
        self, chat: TgChat, user: TgUser, text: str, *, reply_to: StoredMessage | None = None
    ) -> str:
        message = await self.reply_to(
            chat, lambda: self.server.user_sends(chat, user, text, reply_to=reply_to)
        )
        return message.text or ""

    async def upload(self, chat: TgChat, user: TgUser, caption: str, filename: str, content: bytes) -> str:
        message = await self.reply_to(
            chat,
            lambda: self.server.user_sends_document(
                chat, user, filename=filename, content=content, caption=caption
            ),
        )
        return message.text or ""


@asynccontextmanager
async def running_world(tmp_path: Path) -> AsyncIterator[World]:
    feeds = FeedServer()
    await feeds.start()
    feed = Item("probe-1", "Hafenstreik in Rostock", story(1), datetime(2024, 3, 1, tzinfo=UTC))
    feeds.routes[FEED_PATH] = Route(body=rss([feed]))
    try:
        async with BotApiServer() as server:
            settings = Settings(  # type: ignore[call-arg]
                db_path=tmp_path / "db.sqlite",
                seeds_dir=tmp_path / "none",
                telegram=TelegramSettings(
                    token=server.token,  # type: ignore[arg-type]
                    api_base_url=server.api_base_url,
                    file_base_url=server.file_base_url,
                    admin_ids=[ADMIN_ID],
                    poll_timeout=1,
                ),
                # Private hosts allowed: a missing admin check would really fetch the probe feed.
                feeds=FeedSettings(allow_private_hosts=True),
                _env_file=None,
            )
            async with running_app(settings, load_seeds=False) as app:
                yield World(
                    server,
                    feeds,
                    app,
                    admin=server.add_user(ADMIN_ID, "Ada", language_code="en"),
                    ann=server.add_user(7, "Ann", language_code="en"),
                )
    finally:
        await feeds.stop()


async def probe_every_admin_command(world: World, chat: TgChat) -> None:
    url = world.feeds.url(FEED_PATH)
    for name in admin_commands():
        refusal = ADMIN_REFUSAL.format(name=name)
        assert await world.say(chat, world.ann, f"/{name} {admin_arguments(name, url)}") == refusal
        filename, content = admin_upload(name, url)
        assert await world.upload(chat, world.ann, f"/{name}", filename, content) == refusal
        # The other way to hand over a file: send it, then answer it with the command.
        document = world.server.user_sends_document(chat, world.ann, filename=filename, content=content)
        assert await world.say(chat, world.ann, f"/{name}", reply_to=document) == refusal


async def test_a_non_admin_is_refused_every_admin_command_on_telegram(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        server, app = world.server, world.app
        # Something to remove or list: a feed the admin added, and the chats exist already.
        await app.services.feeds.add(world.feeds.url(FEED_PATH), added_by="setup")  # type: ignore[union-attr]
        private = server.private_chat(world.ann)
        group = server.add_group(-4242, "Newsroom")
        server.set_member_status(group, world.ann, "administrator")
        for chat in (private, group):
            await world.say(chat, world.ann, "/help")
        fetched = len(world.feeds.requests)
        fetches = record_fetches(app)
        before = await snapshot(app.storage.db.conn)

        for chat in (private, group):
            await probe_every_admin_command(world, chat)

        # Two chats, two ways to attach (caption, reply): every file probe carried its file to the app.
        assert sorted(fetches.arrived) == sorted(admin_commands() * 4)
        assert fetches.fetched == []
        assert server.calls_to("getFile") == [] and server.calls_to("download") == [], (
            "a refused file was fetched"
        )
        assert len(world.feeds.requests) == fetched, "a refused feed address was fetched"
        assert changed_tables(before, await snapshot(app.storage.db.conn)) == []

        # The probe can see what an admin changes: the same upload is downloaded and stored.
        admin_chat = server.private_chat(world.admin)
        stored = await world.upload(
            admin_chat, world.admin, "/addseed", "putin.txt", admin_upload("addseed", "")[1]
        )
        assert "Stored 1 new article" in stored
        assert len(server.calls_to("getFile")) == 1
        assert "articles" in changed_tables(before, await snapshot(app.storage.db.conn))
        assert "Feeds" in await world.say(admin_chat, world.admin, "/feeds")
