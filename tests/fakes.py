"""Test doubles that record instead of talking to a platform (the database is always real)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.messaging import IncomingCommand, OutgoingMessage, SendError, Sent, html_to_text


@dataclass
class RecordingMessenger:
    """A ``Messenger`` that keeps every message; ``fail_next`` makes the next sends raise."""

    platform: str = "fake"
    max_message_chars: int = 4096
    command_prefix: str = "/"
    sent: list[tuple[str, OutgoingMessage]] = field(default_factory=list)
    failures: list[SendError] = field(default_factory=list)
    dedupe_by_key: bool = False  # behave like a Matrix homeserver: same transaction id → no second event
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, chat_id: str, message: OutgoingMessage) -> Sent:
        if self.failures:
            raise self.failures.pop(0)
        key = (chat_id, message.idempotency_key)
        if self.dedupe_by_key and message.idempotency_key is not None and key in self.keys():
            return Sent(("dup",))
        self.sent.append((chat_id, message))
        self._arrived.set()
        return Sent((str(len(self.sent)),))

    def keys(self) -> list[tuple[str, str | None]]:
        return [(c, m.idempotency_key) for c, m in self.sent]

    def texts(self, chat_id: str | None = None) -> list[str]:
        return [html_to_text(m.html) for c, m in self.sent if chat_id is None or c == chat_id]

    async def wait_for(self, predicate: Callable[[list[str]], bool], limit: float = 10.0) -> list[str]:
        """Wait until the recorded texts satisfy ``predicate`` (no fixed sleeps in tests)."""
        async with asyncio.timeout(limit):
            while not predicate(self.texts()):
                self._arrived.clear()
                await self._arrived.wait()
        return self.texts()


def command(text: str, *, chat_id: str = "c1", user_id: str = "u1", **kw: object) -> IncomingCommand:
    """``"/subscribe Putin"`` → an IncomingCommand from the fake platform."""
    name, _, args = text.lstrip("/!").partition(" ")
    return IncomingCommand(platform="fake", chat_id=chat_id, user_id=user_id, name=name, args=args, **kw)  # type: ignore[arg-type]
