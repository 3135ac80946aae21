"""What a transport needs from the application, and what the application needs from a transport."""

from __future__ import annotations

from typing import Protocol

from bot.core.messaging import IncomingCommand, Messenger, Reply
from bot.core.models import ChatKey


class TransportStartError(RuntimeError):
    """A transport cannot start (rejected credentials, unreachable API); the message is one readable line."""


class TransportHost(Protocol):
    """The application as a transport sees it (implemented by ``bot.app.App``)."""

    async def handle(self, command: IncomingCommand) -> Reply:
        """Run a command; never raises (errors become a short apology reply)."""
        ...

    async def chat_gone(self, key: ChatKey) -> None:
        """The bot was blocked/kicked or left the room: deactivate the chat."""
        ...

    async def chat_moved(self, key: ChatKey, new_chat_id: str) -> None:
        """The chat got a new id (Telegram supergroup migration): keep its subscriptions."""
        ...

    async def chat_back(self, key: ChatKey) -> None:
        """Someone wrote again where the bot had paused (a reopened forum topic, a channel where the bot may
        post again): resume the chat's subscriptions. Nothing happens for unknown or active chats."""
        ...

    async def get_state(self, key: str) -> str | None:
        """Durable transport state (e.g. Matrix sync token)."""
        ...

    async def set_state(self, key: str, value: str) -> None: ...

    def requires_chat_admin(self, command_name: str) -> bool:
        """Whether a command changes the chat's settings (in groups only chat admins may run it), so the
        transport only asks the platform about the sender's rights when it matters."""
        ...

    def command_names(self, lang: str) -> list[tuple[str, str]]:
        """(command, one-line description) for the platform's command menu."""
        ...


class Transport(Protocol):
    messenger: Messenger

    async def start(self) -> None:
        """Connect and begin receiving in the background; return once running."""
        ...

    async def stop(self) -> None: ...
