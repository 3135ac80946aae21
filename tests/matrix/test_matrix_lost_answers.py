"""An alert whose send reached the homeserver but whose answer was lost (the homeserver died after storing the
event, a connection cut) is retried under its old transaction id, so the homeserver hands back the event it
already has; folded into a catch-up digest with a new id, it would reach the reader twice. A reply to a command
is retried the same way, under the transaction id of its first attempt."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App, running_app
from bot.core.clock import FakeClock
from bot.core.ingest import ParsedItem
from bot.core.models import ArticleDraft
from config.settings import MatrixSettings, Settings
from tests.matrix.conftest import Accounts
from tests.matrix.lossy_proxy import LossyProxy
from tests.matrix.synapse import SynapseServer
from tests.matrix.user import UserClient

pytestmark = pytest.mark.matrix


@pytest.fixture
async def proxy(synapse: SynapseServer) -> AsyncIterator[LossyProxy]:
    lossy = LossyProxy(synapse.url)
    await lossy.start()
    try:
        yield lossy
    finally:
        await lossy.close()


def settings_via(tmp_path: Path, proxy: LossyProxy, accounts: Accounts) -> Settings:
    return Settings(  # type: ignore[call-arg]
        db_path=tmp_path / "db.sqlite",
        seeds_dir=tmp_path / "none",
        matrix=MatrixSettings(
            homeserver=proxy.url, user_id=accounts.bot.user_id, password=accounts.bot.password, sync_timeout_ms=1000
        ),
        _env_file=None,
    )


def title(n: int) -> str:
    return f"Putin-Meldung Nummer {n:02d} aus Chabarowsk"


def article(n: int) -> ParsedItem:
    body = f"Kremlchef Wladimir Putin hat in Chabarowsk die Meldung {n:02d} bestätigt, Vorgang {n * 7919}."
    return ParsedItem(f"lost-{n}", ArticleDraft(title=title(n), body=body, lang="de"), "ok")


async def outbox_becomes(app: App, wanted: dict[str, int]) -> None:
    deadline = asyncio.get_running_loop().time() + 60
    while (counts := await app.storage.outbox.status_counts()) != wanted:
        assert asyncio.get_running_loop().time() < deadline, f"outbox stayed {counts}, not {wanted}"
        await asyncio.sleep(0.05)


async def test_alerts_whose_answers_were_lost_reach_the_reader_once_after_the_retry(
    tmp_path: Path, proxy: LossyProxy, accounts: Accounts, alice: UserClient
) -> None:
    bot = accounts.bot.user_id
    clock = FakeClock(datetime.now(UTC))  # retries come due only when the test moves time
    settings = settings_via(tmp_path, proxy, accounts)
    async with running_app(settings, clock=clock, load_seeds=False, run_jobs=False) as app:
        room = await alice.create_room([bot], direct=True)
        await alice.wait_for_membership(room, bot, "join")
        await alice.say(room, "!subscribe Putin")
        await alice.wait_for_notice(room, bot, "Subscribed")

        proxy.lose_answers(2)
        for n in (1, 2):  # each alert is stored by the homeserver, and the bot learns nothing of it
            await app.services.ingest.ingest_items([article(n)])
            await outbox_becomes(app, {"failed": n})
        assert len(set(proxy.lost)) == 2, proxy.lost
        proxy.stop_losing()

        # Both retries are due in the same pass: the chat has two alerts waiting.
        clock.advance(timedelta(hours=1))
        app.services.delivery.kick()
        await outbox_becomes(app, {"sent": 2})

        text = "\n".join((await alice.notice_events_from(room, bot)).values())
        assert {n: text.count(title(n)) for n in (1, 2)} == {1: 1, 2: 1}, text


async def test_a_reply_whose_answer_was_lost_reaches_the_reader_once_after_the_retry(
    tmp_path: Path, proxy: LossyProxy, accounts: Accounts, alice: UserClient
) -> None:
    bot = accounts.bot.user_id
    settings = settings_via(tmp_path, proxy, accounts)
    async with running_app(settings, load_seeds=False, run_jobs=False):
        room = await alice.create_room([bot], direct=True)
        await alice.wait_for_membership(room, bot, "join")
        await alice.say(room, "!subscribe Putin")
        await alice.wait_for_notice(room, bot, "Subscribed")

        answered_before = len(proxy.answered)
        proxy.lose_answers(1)
        await alice.say(room, "!unsubscribe Putin")
        await proxy.wait_until(lambda: bool(proxy.lost))  # the homeserver stored the reply; the bot learns nothing
        lost_at = proxy.sends[-1][0]
        # aiohttp repeats the PUT at once by itself; the bot's own retry comes a second later.
        await proxy.wait_until(lambda: proxy.sends[-1][0] > lost_at + 0.5)
        proxy.stop_losing()
        await proxy.wait_until(lambda: len(proxy.answered) > answered_before)

        replies = [text for text in (await alice.notice_events_from(room, bot)).values() if "Unsubscribed" in text]
        assert len(replies) == 1, (replies, proxy.sends)
