"""A forum topic is paced with its group (Telegram counts a group's messages, whatever the topic), and the
chat id conventions the transport and the delivery share."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.app import App, running_app
from bot.core.alerts.pacing import RateLimiter
from bot.core.clock import FakeClock
from bot.core.ingest import ParsedItem
from bot.core.messaging import TransientError, pacing_key, split_thread, thread_chat_id
from bot.core.models import ArticleDraft
from bot.transports.telegram.channels import split_target
from bot.transports.telegram.sending import address
from config.settings import Settings
from tests.fakes import RecordingMessenger, command

START = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)


class VirtualTime:
    """The limiter's clock: sleeping moves it on at once, so a minute's budget costs no real minute."""

    def __init__(self) -> None:
        self.now = 0.0

    def read(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


@pytest.fixture
async def paced_app(settings: Settings, messenger: RecordingMessenger) -> AsyncIterator[tuple[App, VirtualTime]]:
    virtual = VirtualTime()
    async with running_app(settings, clock=FakeClock(START), load_seeds=False, run_jobs=False) as app:
        limiter = RateLimiter(1000.0, 1000.0, 2, now=virtual.read, sleep=virtual.sleep)  # 2 per group a minute
        app.services.delivery.register(messenger, limiter)
        yield app, virtual


async def test_topics_share_their_groups_budget(
    paced_app: tuple[App, VirtualTime], messenger: RecordingMessenger
) -> None:
    app, virtual = paced_app
    chats = ["-1005/7", "-1005/9", "-1005"]  # two topics and General
    for chat_id in chats:
        reply = await app.handle(command("/subscribe Putin", chat_id=chat_id, is_group=True))
        assert "Subscribed" in reply.messages[0].html
    await app.services.ingest.ingest_items([_putin_item()])
    await messenger.wait_for(lambda texts: len(texts) == 3)
    assert sorted(chat_id for chat_id, _ in messenger.sent) == sorted(chats)
    # Three messages into one group at two a minute: the third waited for the window, on the group's budget.
    assert virtual.now >= 59.0


async def test_a_topic_alert_that_failed_is_sent_after_a_restart(settings: Settings) -> None:
    """Restart safety covers topics as it covers chats: the outbox row outlives the process."""
    down = RecordingMessenger(failures=[TransientError("Telegram unreachable")] * 50)
    async with running_app(settings, clock=FakeClock(START), load_seeds=False, run_jobs=False) as app:
        app.services.delivery.register(down)
        await app.handle(command("/subscribe Putin", chat_id="-1005/7", is_group=True))
        await app.services.ingest.ingest_items([_putin_item()])
        await app.services.delivery.run_due()
        assert down.sent == [] and (await app.storage.outbox.status_counts()).get("failed") == 1
    up = RecordingMessenger()
    later = FakeClock(START.replace(hour=14))  # past any backoff
    async with running_app(settings, clock=later, load_seeds=False, run_jobs=False) as app:
        app.services.delivery.register(up)
        await app.services.delivery.run_due()
        texts = await up.wait_for(lambda t: len(t) == 1)
        assert up.sent[0][0] == "-1005/7" and texts[0].startswith("Putin besucht Hanoi")


def _putin_item() -> ParsedItem:
    draft = ArticleDraft(
        title="Putin besucht Hanoi",
        body="Kremlchef Wladimir Putin hat am Dienstag Hanoi besucht und über Handel gesprochen.",
        lang="de",
        published=None,
        source="dpa",
    )
    return ParsedItem(source="test:hanoi", draft=draft, status="ok")


def test_chat_id_conventions_for_topics() -> None:
    assert thread_chat_id("-1005", "7") == "-1005/7"
    assert split_thread("-1005/7") == ("-1005", "7")
    assert split_thread("-1005") == ("-1005", None)
    assert split_thread("!room:example.org") == ("!room:example.org", None)
    assert pacing_key("-1005/7") == pacing_key("-1005") == "-1005"
    assert address("-1005/7") == {"chat_id": -1005, "message_thread_id": 7}
    assert address("42") == {"chat_id": 42}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("@putinwatch Putin", ("@putinwatch", "Putin")),
        ("@putinwatch", ("@putinwatch", "")),
        ("-1001234567890 daily 08:00", ("-1001234567890", "daily 08:00")),
        ("Putin", None),
        ("@ab Putin", None),  # too short for a Telegram username
        ("-12345 Putin", None),  # a basic group id: not a channel
        ('"arms deal" @x', None),
    ],
)
def test_a_channel_is_named_before_the_arguments(args: str, expected: tuple[str, str] | None) -> None:
    assert split_target(args) == expected
