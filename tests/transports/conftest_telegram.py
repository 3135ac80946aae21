"""Helpers for the Telegram transport tests: a recording ``TransportHost`` and a running transport against the
local Bot API server. (Imported by the test modules; pytest does not load this file on its own.)"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from bot.core.messaging import IncomingCommand, Reply
from bot.core.models import ChatKey
from bot.transports.telegram import TelegramTransport
from config.settings import TelegramSettings
from tests.telegram_server import BotApiServer

ADMIN_ID = 42
Behaviour = Callable[[IncomingCommand], Awaitable[Reply]]


class RecordingHost:
    """A ``TransportHost`` that records what the transport tells it and answers with canned replies."""

    def __init__(self, *, manages_chat: frozenset[str] = frozenset({"subscribe", "unsubscribe", "mode"})) -> None:
        self.commands: list[IncomingCommand] = []
        self.gone: list[ChatKey] = []
        self.moved: list[tuple[ChatKey, str]] = []
        self.back: list[ChatKey] = []
        self.state: dict[str, str] = {}
        self.behaviours: dict[str, Behaviour] = {}
        self._manages_chat = manages_chat

    async def handle(self, command: IncomingCommand) -> Reply:
        self.commands.append(command)
        behaviour = self.behaviours.get(command.name)
        if behaviour is not None:
            return await behaviour(command)
        return Reply.text(f"<b>{html.escape(command.name)}</b> {html.escape(command.args)}")

    async def chat_gone(self, key: ChatKey) -> None:
        self.gone.append(key)

    async def chat_moved(self, key: ChatKey, new_chat_id: str) -> None:
        self.moved.append((key, new_chat_id))

    async def chat_back(self, key: ChatKey) -> None:
        self.back.append(key)

    async def get_state(self, key: str) -> str | None:
        return self.state.get(key)

    async def set_state(self, key: str, value: str) -> None:
        self.state[key] = value

    def requires_chat_admin(self, command_name: str) -> bool:
        return command_name in self._manages_chat

    def command_names(self, lang: str) -> list[tuple[str, str]]:
        if lang == "de":
            return [("subscribe", "Thema abonnieren"), ("list", "Abos anzeigen")]
        return [("subscribe", "Follow a topic"), ("list", "Show subscriptions")]

    def commands_named(self, name: str) -> list[IncomingCommand]:
        return [c for c in self.commands if c.name == name]


def telegram_settings(server: BotApiServer, **overrides: Any) -> TelegramSettings:
    values: dict[str, Any] = {
        "token": server.token,
        "api_base_url": server.api_base_url,
        "file_base_url": server.file_base_url,
        "admin_ids": [ADMIN_ID],
        "poll_timeout": 5,
    }
    values.update(overrides)
    return TelegramSettings(**values)


@asynccontextmanager
async def running_transport(
    server: BotApiServer, host: RecordingHost, **overrides: Any
) -> AsyncIterator[TelegramTransport]:
    transport = TelegramTransport(telegram_settings(server, **overrides), host)
    await transport.start()
    try:
        yield transport
    finally:
        await transport.stop()
