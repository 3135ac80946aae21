"""The shared reply-retry policy: waits out floods, follows migrations, stops on shutdown."""

from __future__ import annotations

import asyncio

from bot.core.messaging import ChatGone, ChatMoved, OutgoingMessage, RetryLater, SendError, TransientError
from bot.core.models import ChatKey
from bot.transports.retry import ReplySender
from tests.fakes import RecordingMessenger


class Host:
    def __init__(self) -> None:
        self.gone: list[ChatKey] = []
        self.moved: list[tuple[ChatKey, str]] = []

    async def chat_gone(self, key: ChatKey) -> None:
        self.gone.append(key)

    async def chat_moved(self, key: ChatKey, new_chat_id: str) -> None:
        self.moved.append((key, new_chat_id))


async def test_flood_wait_and_outage_are_retried_then_sent() -> None:
    messenger = RecordingMessenger(failures=[RetryLater(0.01), TransientError("502")])
    sender = ReplySender(messenger, Host(), asyncio.Event())  # type: ignore[arg-type]
    assert await sender.send("1", OutgoingMessage("hi")) == "1"
    assert messenger.texts() == ["hi"]


async def test_migration_is_followed_and_reported() -> None:
    host = Host()
    messenger = RecordingMessenger(failures=[ChatMoved("-100")])
    sender = ReplySender(messenger, host, asyncio.Event())  # type: ignore[arg-type]
    assert await sender.send("1", OutgoingMessage("hi")) == "-100"
    assert host.moved == [(ChatKey("fake", "1"), "-100")]
    assert messenger.sent[0][0] == "-100"


async def test_gone_and_refused_chats_stop_at_once() -> None:
    host = Host()
    sender = ReplySender(RecordingMessenger(failures=[ChatGone("blocked")]), host, asyncio.Event())  # type: ignore[arg-type]
    assert await sender.send("1", OutgoingMessage("hi")) is None
    assert host.gone == [ChatKey("fake", "1")]
    refused = RecordingMessenger(failures=[SendError("bad"), SendError("bad")])
    assert await ReplySender(refused, host, asyncio.Event()).send("2", OutgoingMessage("x")) is None  # type: ignore[arg-type]
    assert len(refused.failures) == 1  # not retried


async def test_shutdown_drops_the_retry() -> None:
    stopping = asyncio.Event()
    stopping.set()
    messenger = RecordingMessenger(failures=[RetryLater(60.0)])
    sender = ReplySender(messenger, Host(), stopping)  # type: ignore[arg-type]
    assert await asyncio.wait_for(sender.send("1", OutgoingMessage("hi")), 2) is None
    assert messenger.sent == []
