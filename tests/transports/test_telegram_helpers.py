"""Pure parts of the Telegram transport: command parsing, message splitting, signed button data."""

from __future__ import annotations

import pytest

from bot.transports.telegram import MAX_CALLBACK_BYTES, CallbackCodec, parse_command
from tests.transports.conftest_telegram import RecordingHost

BOT = "newsalert_test_bot"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/subscribe Putin", ("subscribe", "Putin")),
        ("/SUBSCRIBE   arms deal  ", ("subscribe", "arms deal")),
        ("/subscribe@NewsAlert_Test_Bot Kim", ("subscribe", "Kim")),
        ("/list", ("list", "")),
        ("/list@newsalert_test_bot", ("list", "")),
        ("/subscribe\nKim Jong-un", ("subscribe", "Kim Jong-un")),
        ("/list@other_bot", None),
        ("hello /list", None),
        ("/", None),
        ("/bad-name x", None),
        ("", None),
    ],
)
def test_parse_command(text: str, expected: tuple[str, str] | None) -> None:
    assert parse_command(text, BOT) == expected


def test_commands_addressed_to_a_bot_are_ignored_before_the_name_is_known() -> None:
    assert parse_command("/list@newsalert_test_bot", None) is None
    assert parse_command("/list", None) == ("list", "")


class _Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_button_data_round_trips_and_fits_telegram() -> None:
    codec = CallbackCodec(RecordingHost())
    data = await codec.encode("-100123", "unsubscribe #12")
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert await codec.decode("-100123", data) == "unsubscribe #12"


async def test_button_data_is_bound_to_its_chat_and_signature() -> None:
    codec = CallbackCodec(RecordingHost())
    data = await codec.encode("7", "unsubscribe #1")
    assert await codec.decode("8", data) is None
    assert await codec.decode("7", data.replace("#1", "#2")) is None
    assert await codec.decode("7", "c.zz.AAAAAAAAAAAA.stats") is None
    assert await codec.decode("7", "unsubscribe #1") is None


async def test_buttons_expire() -> None:
    clock = _Clock()
    codec = CallbackCodec(RecordingHost(), clock=clock)
    data = await codec.encode("7", "digest")
    clock.now += 29 * 86400
    assert await codec.decode("7", data) == "digest"
    clock.now += 2 * 86400
    assert await codec.decode("7", data) is None


async def test_the_secret_is_created_once_and_survives_restarts() -> None:
    host = RecordingHost()
    data = await CallbackCodec(host).encode("7", "list")
    secret = host.state["telegram.callback_secret"]
    assert await CallbackCodec(host).decode("7", data) == "list"
    assert host.state["telegram.callback_secret"] == secret
    assert await CallbackCodec(RecordingHost()).decode("7", data) is None  # another installation


async def test_long_commands_are_referenced_from_state() -> None:
    host = RecordingHost()
    codec = CallbackCodec(host, clock=_Clock())  # a fixed minute, so equal commands encode equally
    command = "subscribe Nordkoreas Machthaber Kim Jong-un trifft Wladimir Putin in Wladiwostok"
    data = await codec.encode("7", command)
    assert len(data.encode()) <= MAX_CALLBACK_BYTES
    assert command not in data
    assert await codec.decode("7", data) == command
    assert await codec.encode("7", command) == data  # same command, same stored entry
    assert sum(key.startswith("telegram.button.") for key in host.state) == 1
