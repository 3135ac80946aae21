"""A running bot with something to lose, the bounds every attack must stay within, and the proof that
nothing else changed."""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiohttp.abc import AbstractResolver

from bot.app import App, running_app
from bot.core.clock import FakeClock
from bot.core.feeds.urls import IPAddress
from bot.core.matching import MatchEngine
from bot.core.models import Chat, ChatKey
from bot.services.feeds import FeedService
from config.settings import FeedSettings, Settings
from tests.fakes import RecordingMessenger, command

MB = 1024 * 1024
TIME_LIMIT = 5.0  # seconds of CPU, by the process's own accounting
MEMORY_LIMIT = 100 * MB  # bytes allocated beyond what was in use before the attack (tracemalloc peak)
START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
PUTIN_STORY = (
    '{"id": "base-1", "title": "Putin trifft Kim in Wladiwostok", "date": "2026-05-04", "text": '
    '"Kremlchef Wladimir Putin ist zu einem Staatsbesuch eingetroffen. Machthaber Kim Jong-un empfing ihn '
    'am Flughafen. Beide Seiten wollen einen Vertrag unterzeichnen, berichtete die Nachrichtenagentur."}\n'
)
# Attack tests must finish quickly even when a defence fails: short fetch deadline, small size cap.
ATTACK_FEEDS = FeedSettings(
    allow_private_hosts=True, timeout_seconds=2.0, max_bytes=5 * MB, max_failures=3, poll_seconds=600
)


@dataclass
class Usage:
    cpu: float = 0.0
    peak: int = 0

    def check(self) -> None:
        assert self.cpu < TIME_LIMIT, f"{self.cpu:.2f} s of CPU"
        assert self.peak < MEMORY_LIMIT, f"{self.peak / MB:.1f} MB allocated"


MEASURED: list[tuple[str, Usage]] = []  # shown in the terminal summary: the figures for the README


@contextmanager
def bounded() -> Iterator[Usage]:
    """Measures CPU time (all threads) and the peak of memory allocated inside the block."""
    usage = Usage()
    MEASURED.append((os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0], usage))
    tracemalloc.start()
    cpu = time.process_time()
    try:
        yield usage
    finally:
        usage.cpu = time.process_time() - cpu
        usage.peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


@dataclass(frozen=True)
class Snapshot:
    articles: tuple[tuple[int, str, str], ...]
    subscriptions: tuple[str, ...]
    outbox: tuple[tuple[int, int, str], ...]
    sent: int


@dataclass
class World:
    app: App
    messenger: RecordingMessenger
    chat: Chat
    clock: FakeClock
    notices: list[str] = field(default_factory=list)

    async def snapshot(self) -> Snapshot:
        storage = self.app.services.storage
        count = await storage.articles.count()
        articles = await storage.articles.get_many(list(range(1, count + 50)))
        subscriptions = await self.app.services.subscriptions.list(self.chat)
        outbox = await storage.outbox.waiting_for_chat(self.chat.id)
        return Snapshot(
            tuple((a.id, a.title, a.body) for a in articles),
            tuple(s.query for s in subscriptions),
            tuple((o.article_id, o.subscription_id or 0, o.status) for o in outbox),
            len(self.messenger.sent),
        )

    def feed_service(
        self,
        settings: FeedSettings = ATTACK_FEEDS,
        policy: Callable[[IPAddress], str | None] | None = None,
        resolver: AbstractResolver | None = None,
    ) -> FeedService:
        services = self.app.services
        return FeedService(
            services.storage,
            settings,
            services.ingest,
            self.clock,
            self._notify,
            address_policy=policy,
            resolver=resolver,
        )

    async def _notify(self, text: str) -> None:
        self.notices.append(text)


@asynccontextmanager
async def running_world(tmp_path: Path, engine: MatchEngine) -> AsyncIterator[World]:
    """The bot with one article, a chat following "Putin" in daily mode (so its alert waits in the
    outbox) — what each attack must leave untouched. ``engine``: the session's (loading one costs every
    world a third of a second of CPU).

    ``run_jobs=False``: the tests poll and deliver themselves. A running scheduler on this fake clock (months
    behind the wall clock) fired the overdue digest and feed poll in the background, beside the attack being
    measured, and APScheduler counted through every 30-second feed slot since the clock's date to find the
    next one: seconds of CPU per world."""
    settings = Settings(db_path=tmp_path / "news.db", seeds_dir=tmp_path / "no-seeds", _env_file=None)  # type: ignore[call-arg]
    clock = FakeClock(START)
    messenger = RecordingMessenger()
    async with running_app(settings, clock=clock, load_seeds=False, run_jobs=False, engine=engine) as app:
        app.services.delivery.register(messenger)
        await app.handle(command("/mode daily 18:00"))
        await app.handle(command("/subscribe Putin"))
        report = await app.services.ingest.ingest_document("base.jsonl", PUTIN_STORY.encode(), max_bytes=MB)
        assert report.count("new") == 1, report.outcomes
        chat = await app.services.storage.chats.get_by_key(ChatKey("fake", "c1"))
        assert chat is not None
        world = World(app, messenger, chat, clock)
        baseline = await world.snapshot()
        assert baseline.outbox and baseline.subscriptions == ("Putin",)
        yield world
