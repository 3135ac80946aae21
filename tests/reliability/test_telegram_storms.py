"""A fan-out of a few hundred alerts through the real Telegram transport while the Bot API test server
answers bursts of 429 (with ``retry_after``) and 502/500/503: every alert arrives, none twice, and no send
reaches Telegram inside a flood window it was told about."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import App, running_app
from bot.core.ingest import ParsedItem
from bot.core.models import ArticleDraft, ChatKey
from bot.services.delivery import DEFAULT_CONCURRENCY
from config.settings import Settings, TelegramSettings
from tests.telegram_server import BotApiServer, Fault, FloodWindow, SendAttempt, TgChat
from tests.waiting import eventually

pytestmark = [pytest.mark.reliability, pytest.mark.telegram]

READERS = 300
TITLE = "Putin und Kim vereinbaren Waffendeal in Wladiwostok"
ARTICLE = ArticleDraft(
    title=TITLE,
    body="Kremlchef Wladimir Putin und Machthaber Kim Jong-un haben sich in Wladiwostok getroffen. "
    "Nach Angaben beider Seiten ging es um Munition und Raketen. Westliche Regierungen warnten "
    "vor einem Waffendeal, der gegen Sanktionen verstoßen würde.",
    lang="de",
)
# Sends arriving this close to a window's end count as on time (the server's clock granularity).
TOLERANCE = 0.01


@dataclass(frozen=True, slots=True)
class Burst:
    after_ok: int  # inject once this many sends have been accepted
    fault: Fault
    count: int


STORM = (
    Burst(40, Fault.flood(1), 3),
    Burst(90, Fault.bad_gateway(), 25),
    Burst(150, Fault(500, "Internal Server Error"), 8),
    Burst(150, Fault(503, "Service Unavailable"), 8),
    Burst(190, Fault.flood(2), 2),
    Burst(240, Fault.bad_gateway(), 12),
)


def accepted(server: BotApiServer) -> int:
    return sum(1 for attempt in server.attempts if attempt.status == 200)


async def storm(server: BotApiServer) -> None:
    """Inject each burst when the fan-out has got that far, so the faults land mid-run."""
    for burst in STORM:
        await server.wait_for(
            lambda b=burst: accepted(server) >= b.after_ok, within=120, what="fan-out progress"
        )
        server.inject(burst.fault, count=burst.count)


async def outbox_settled(app: App) -> bool:
    counts = await app.storage.outbox.status_counts()
    return not counts.keys() & {"pending", "sending", "failed"}


def inside(window: FloodWindow, attempt: SendAttempt) -> bool:
    return window.issued_at < attempt.arrived_at < window.ends_at - TOLERANCE


async def subscribe_readers(app: App, server: BotApiServer) -> list[TgChat]:
    chats = []
    for n in range(READERS):
        chat = server.private_chat(server.add_user(20_000 + n, f"Reader {n}"))
        row, _ = await app.storage.chats.get_or_create(
            ChatKey("telegram", str(chat.id)), app.services.clock.now()
        )
        await app.services.subscriptions.subscribe(row, "Putin")
        chats.append(chat)
    return chats


def app_settings(tmp_path: Path, server: BotApiServer) -> Settings:
    telegram = TelegramSettings(
        token=server.token,  # type: ignore[arg-type]
        api_base_url=server.api_base_url,
        file_base_url=server.file_base_url,
        poll_timeout=1,
        global_rate=300.0,
    )
    return Settings(
        db_path=tmp_path / "db.sqlite", seeds_dir=tmp_path / "none", telegram=telegram, _env_file=None
    )  # type: ignore[call-arg]


async def test_a_fan_out_through_429_and_5xx_storms_arrives_complete_and_once(tmp_path: Path) -> None:
    async with BotApiServer() as server, running_app(app_settings(tmp_path, server), load_seeds=False) as app:
        chats = await subscribe_readers(app, server)
        storming = asyncio.create_task(storm(server))
        try:
            await app.services.ingest.ingest_items([ParsedItem("storm", ARTICLE, "ok")])
            everyone: Callable[[], bool] = lambda: all(server.bot_messages(chat) for chat in chats)  # noqa: E731
            await server.wait_for(everyone, within=150, what=f"{READERS} alerts")
            await asyncio.wait_for(storming, 5)
        finally:
            storming.cancel()

        per_chat = [len(server.bot_messages(chat)) for chat in chats]
        assert per_chat == [1] * READERS, "an alert went missing or arrived twice"
        assert all(TITLE in (server.bot_messages(chat)[0].text or "") for chat in chats)
        # The last acknowledgement may still be on its way from the platform to the outbox.
        await eventually(lambda: outbox_settled(app), what="the outbox to record every send")
        assert (await app.storage.outbox.status_counts()) == {"sent": READERS}

        answered = [a.status for a in server.attempts]
        assert answered.count(429) >= sum(b.count for b in STORM if b.fault.status == 429)
        assert sum(1 for s in answered if s >= 500) >= sum(b.count for b in STORM if b.fault.status >= 500)

        assert server.early_sends() == [], "a chat was sent to inside its own flood window"
        # After a 429 the whole bot waits; only requests already on the wire may still arrive.
        for window in server.flood_windows:
            late = [a for a in server.attempts if inside(window, a)]
            assert len(late) < DEFAULT_CONCURRENCY, f"{len(late)} sends inside a flood window of {window}"
