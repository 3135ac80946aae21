"""Photos (trend charts) and paid broadcasts through the Telegram transport, against the local Bot API server."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator

import pytest

from bot.core.messaging import Button, Image, IncomingCommand, OutgoingMessage, Reply, SendError
from bot.transports.telegram import MAX_CAPTION_CHARS
from tests.telegram_server import BotApiServer, TgUser
from tests.transports.conftest_telegram import RecordingHost, running_transport


def png(width: int, height: int) -> bytes:
    """A real (grey) PNG of the given size, built by hand so the test needs no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


CHART = Image(png(120, 68), 120, 68)


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as running:
        yield running


@pytest.fixture
def ann(server: BotApiServer) -> TgUser:
    return server.add_user(7, "Ann", language_code="en")


async def test_a_reply_with_an_image_arrives_as_a_photo_with_its_html_caption(
    server: BotApiServer, ann: TgUser
) -> None:
    host = RecordingHost()

    async def trend(command: IncomingCommand) -> Reply:
        caption = f"<b>Putin</b>: 41 articles in 30 days ({command.args})"
        return Reply((OutgoingMessage(caption, ((Button("90 days", "trend Putin 90d"),),), image=CHART),))

    host.behaviours["trend"] = trend
    chat = server.private_chat(ann)
    async with running_transport(server, host):
        server.user_sends(chat, ann, "/trend Putin")
        [photo] = await server.wait_for_bot_messages(chat)
    [size] = photo.photo or []
    assert (size["width"], size["height"]) == (120, 68)
    assert photo.caption == "Putin: 41 articles in 30 days (Putin)"
    assert photo.caption_entities == [{"type": "bold", "offset": 0, "length": 5}]
    assert photo.parse_mode == "HTML"
    assert photo.button_labels == ["90 days"]
    [call] = server.calls_to("sendPhoto")
    assert "allow_paid_broadcast" not in call.params  # not a paid broadcast unless configured


async def test_a_caption_over_the_limit_follows_the_photo_as_a_message_with_the_buttons(
    server: BotApiServer, ann: TgUser
) -> None:
    chat = server.private_chat(ann)
    long_text = "<i>Most named with Putin:</i> " + ", ".join(f"Person {n} {n}" for n in range(150))
    assert len(long_text) > MAX_CAPTION_CHARS
    message = OutgoingMessage(long_text, ((Button("More", "trend Putin 1y"),),), image=CHART)
    async with running_transport(server, RecordingHost()) as transport:
        sent = await transport.messenger.send(str(chat.id), message)
    photo, text = server.bot_messages(chat)
    assert sent.message_ids == (str(photo.message_id), str(text.message_id))
    assert photo.photo is not None and photo.caption is None and not photo.buttons
    assert text.text is not None and text.text.startswith("Most named with Putin: Person 0 0")
    assert text.button_labels == ["More"]


async def test_paid_broadcast_sends_with_allow_paid_broadcast(server: BotApiServer, ann: TgUser) -> None:
    chat = server.private_chat(ann)
    async with running_transport(server, RecordingHost(), paid_broadcast=True) as transport:
        await transport.messenger.send(str(chat.id), OutgoingMessage("<b>Alert</b>"))
        await transport.messenger.send(str(chat.id), OutgoingMessage("chart", image=CHART))
    # Bot API method names are case-insensitive (alerts go out as "sendmessage").
    assert [(a.method.lower(), a.paid, a.status) for a in server.attempts] == [
        ("sendmessage", True, 200),
        ("sendphoto", True, 200),
    ]


async def test_bytes_that_are_no_image_are_refused_and_nothing_is_shown(server: BotApiServer, ann: TgUser) -> None:
    chat = server.private_chat(ann)
    broken = OutgoingMessage("chart", image=Image(b"not a picture", 10, 10))
    async with running_transport(server, RecordingHost()) as transport:
        with pytest.raises(SendError, match=r"(?i)image_process_failed"):
            await transport.messenger.send(str(chat.id), broken)
    assert server.bot_messages(chat) == []


def test_paid_broadcast_raises_the_pacing_to_telegrams_paid_limit() -> None:
    from config.settings import TelegramSettings

    assert TelegramSettings().send_rate == 30.0
    assert TelegramSettings(paid_broadcast=True).send_rate == 1000.0
    assert TelegramSettings(paid_broadcast=True, global_rate=2000.0).send_rate == 2000.0  # a test server's
