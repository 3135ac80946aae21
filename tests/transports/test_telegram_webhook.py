"""Telegram webhook mode end to end: the test server pushes updates to the bot's webhook server (PTB's, with
the secret token checked) instead of the bot polling; forged pushes are refused and change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from bot.app import running_app
from config.settings import Settings, TelegramSettings
from tests.pg import _free_port
from tests.telegram_server import BotApiServer
from tests.telegram_server.webhook import SECRET_HEADER
from tests.transports.test_telegram_e2e import ADMIN_ID, REPO, World, eventually

pytestmark = pytest.mark.telegram

SECRET = "s3cret-Token_for-tests"


@asynccontextmanager
async def webhook_world(tmp_path: Path, **telegram: Any) -> AsyncIterator[tuple[World, str]]:
    """A running app in webhook mode; yields the world and the local URL the bot listens on."""
    port = _free_port()
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    async with BotApiServer() as server:
        values: dict[str, Any] = {
            "token": server.token,
            "api_base_url": server.api_base_url,
            "file_base_url": server.file_base_url,
            "admin_ids": [ADMIN_ID],
            "webhook_url": hook,  # the proxy's public URL; here the test server reaches the bot directly
            "webhook_listen": f"127.0.0.1:{port}",
            "webhook_secret": SECRET,
            **telegram,
        }
        settings = Settings(
            db_path=tmp_path / "db.sqlite",
            seeds_dir=REPO / "seeds",
            telegram=TelegramSettings(**values),
            _env_file=None,  # type: ignore[call-arg]
        )
        async with running_app(settings, load_seeds=False) as app:
            admin = server.add_user(ADMIN_ID, "Ada", language_code="en")
            yield World(server, app, admin=admin, ann=server.add_user(7, "Ann", language_code="en")), hook


async def test_a_pushed_subscribe_is_answered_and_nothing_polls(tmp_path: Path) -> None:
    async with webhook_world(tmp_path) as (world, hook):
        server = world.server
        assert server.webhook.url == hook and server.webhook.secret == SECRET
        chat = server.private_chat(world.ann)

        reply = await world.say(chat, world.ann, "/subscribe Putin")

        assert reply.text is not None and reply.text.startswith("Subscribed: Putin"), reply.text
        assert await world.queries(chat) == ["Putin"]
        assert [p.status for p in server.webhook.pushes] == [200]
        assert server.calls_to("getUpdates") == []  # webhook mode: no long polling at all
    assert server.calls_to("deleteWebhook") == []  # stopping one instance leaves the others receiving


async def test_pushes_without_or_with_a_wrong_secret_are_refused(tmp_path: Path) -> None:
    async with webhook_world(tmp_path) as (world, hook):
        chat = world.server.private_chat(world.ann)
        await world.say(chat, world.ann, "/subscribe Putin")
        forged = {
            "update_id": 9_000,
            "message": {
                "message_id": 900,
                "date": 1_700_000_000,
                "chat": {"id": chat.id, "type": "private", "first_name": "Ann"},
                "from": {"id": world.ann.id, "is_bot": False, "first_name": "Ann"},
                "text": "/unsubscribe Putin",
                "entities": [{"type": "bot_command", "offset": 0, "length": 12}],
            },
        }
        async with aiohttp.ClientSession() as session:
            statuses = []
            for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET.upper()}):
                async with session.post(hook, json=forged, headers=headers) as response:
                    statuses.append(response.status)
        assert statuses == [403, 403, 403]

        # A genuine push after the forged ones is still handled, and the forged unsubscribe never happened.
        reply = await world.say(chat, world.ann, "/list")
        assert reply.text is not None and "Putin" in reply.text
        await eventually(lambda: _same(world, chat.id), what="the subscription kept")


async def _same(world: World, chat_id: int) -> bool:
    return await world.queries(chat_id) == ["Putin"]


def test_a_webhook_needs_a_secret_and_a_host_port_listen_address() -> None:
    with pytest.raises(ValidationError, match="WEBHOOK_SECRET is required"):
        TelegramSettings(token="1:x", webhook_url="https://bot.example.org/tg")
    with pytest.raises(ValidationError, match="host:port"):
        TelegramSettings(
            token="1:x", webhook_url="https://bot.example.org/tg", webhook_secret=SECRET, webhook_listen="8443"
        )
    with pytest.raises(ValidationError, match="1-256 characters"):
        TelegramSettings(token="1:x", webhook_url="https://bot.example.org/tg", webhook_secret="has space")
    assert TelegramSettings(token="1:x").webhook_url is None  # polling stays the default
