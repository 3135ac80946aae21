"""Builds settings → storage → services → scheduler → transports, and shuts them down in reverse."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TextIO

from bot.core.alerts.pacing import RateLimiter
from bot.core.clock import Clock, SystemClock
from bot.core.i18n import translator
from bot.core.matching import MatchEngine
from bot.core.messaging import IncomingCommand, Reply
from bot.core.models import ChatKey
from bot.scheduler import NewsScheduler
from bot.services.archive import ArchiveService
from bot.services.channels import ChannelNotices, ChannelService
from bot.services.chat_settings import ChatSettingsService
from bot.services.chats import ChatLifecycle
from bot.services.container import Services
from bot.services.delivery import DeliveryService
from bot.services.feeds import FeedService
from bot.services.ingest import IngestService
from bot.services.notify import AdminNotifier
from bot.services.pipeline import MatchPipeline
from bot.services.subscriptions import SubscriptionService
from bot.services.summaries import SummaryService
from bot.services.trends import TrendService
from bot.storage.store import Storage
from bot.transports.base import Transport
from bot.transports.console import CHAT_ID as CONSOLE_CHAT
from bot.transports.console import ConsoleTransport
from config.settings import Settings
from handlers.registry import Dispatcher, Registry, build_registry

log = logging.getLogger(__name__)

MATRIX_SENDS_PER_SECOND = 20.0


class App:
    """The running application; transports talk to it through the ``TransportHost`` protocol."""

    def __init__(self, settings: Settings, services: Services, pipeline: MatchPipeline, registry: Registry) -> None:
        self.settings = settings
        self.services = services
        self.pipeline = pipeline
        self.registry = registry
        self.dispatcher = Dispatcher(registry, services)
        self.transports: list[Transport] = []
        self.console: ConsoleTransport | None = None

    @property
    def storage(self) -> Storage:
        return self.services.storage

    # --- TransportHost ----------------------------------------------------------------------------------
    async def handle(self, command: IncomingCommand) -> Reply:
        return await self.dispatcher.handle(command)

    async def chat_gone(self, key: ChatKey) -> None:
        await self.services.chats.gone(key, "left or blocked the bot")

    async def chat_moved(self, key: ChatKey, new_chat_id: str) -> None:
        await self.services.chats.moved(key, new_chat_id)

    async def chat_back(self, key: ChatKey) -> None:
        await self.services.chats.resume(key)

    async def get_state(self, key: str) -> str | None:
        return await self.storage.kv.get(key)

    async def set_state(self, key: str, value: str) -> None:
        await self.storage.kv.set(key, value)

    def requires_chat_admin(self, command_name: str) -> bool:
        return self.dispatcher.requires_chat_admin(command_name)

    def command_names(self, lang: str) -> list[tuple[str, str]]:
        """The Telegram command menu (non-admin commands with their /help line) in ``lang``."""
        t = translator(lang)
        return [(s.name, self.registry.help_line(s, t)) for s in self.registry.ordered if not s.admin_only]

    # --- helpers ----------------------------------------------------------------------------------------
    async def load_seeds(self) -> None:
        folder = self.settings.seeds_dir
        if not folder.is_dir():
            log.info("no seeds folder at %s", folder)
            return
        report = await self.services.ingest.ingest_path(folder)
        log.info(
            "seeds: %d new, %d already stored, %d rejected",
            report.count("new"),
            report.count("duplicate"),
            report.count("rejected"),
        )
        for outcome in report.outcomes:
            if outcome.status == "rejected":
                log.warning("seed %s rejected: %s", outcome.source, outcome.reason)


async def build_services(
    settings: Settings,
    storage: Storage,
    clock: Clock,
    *,
    run_jobs: bool = True,
    engine: MatchEngine | None = None,
) -> tuple[Services, MatchPipeline]:
    """Every service, each built once with what it needs; nothing is filled in afterwards.

    ``run_jobs=False`` makes the scheduler plan without firing (a test clock; see ``NewsScheduler``).
    ``engine``: an already loaded matching engine to use (a benchmark or test session shares one)."""
    engine = engine or await asyncio.to_thread(MatchEngine.load)
    delivery = DeliveryService(
        storage, engine, clock, digest_cap=settings.digest_cap, summary_bullets=settings.summary_bullets
    )
    pipeline = MatchPipeline(storage, engine, clock, delivery.on_enqueued)
    await pipeline.load()
    ingest = IngestService(storage, clock, pipeline.process_articles)
    subscriptions = SubscriptionService(
        storage,
        engine,
        pipeline,
        clock,
        max_per_chat=settings.max_subscriptions_per_chat,
        max_query_chars=settings.max_query_chars,
    )
    notifier = AdminNotifier()
    feeds = FeedService(storage, settings.feeds, ingest, clock, notifier.notify)
    scheduler = NewsScheduler(storage, delivery, clock, feeds, run_jobs=run_jobs)
    channel_notices = ChannelNotices(storage)
    chats = ChatLifecycle(storage, pipeline, scheduler, channel_notices.paused)
    delivery.on_chat_changes(chats.gone, chats.moved)
    services = Services(
        settings=settings,
        storage=storage,
        clock=clock,
        engine=engine,
        ingest=ingest,
        subscriptions=subscriptions,
        delivery=delivery,
        chats=chats,
        feeds=feeds,
        scheduler=scheduler,
        chat_settings=ChatSettingsService(storage, scheduler, delivery.kick),
        archive=ArchiveService(storage),
        summaries=SummaryService(delivery.bullets),
        notifier=notifier,
        trends=TrendService(storage, engine, clock),
        channels=ChannelService(storage, chats),
        channel_notices=channel_notices,
    )
    return services, pipeline


def _telegram_limiter(settings: Settings) -> RateLimiter:
    tg = settings.telegram
    return RateLimiter(tg.send_rate, tg.per_chat_rate, tg.per_group_per_minute)


def _build_transports(app: App) -> list[Transport]:
    settings = app.settings
    transports: list[Transport] = []
    if settings.telegram.enabled:
        from bot.transports.telegram import TelegramTransport

        telegram = TelegramTransport(settings.telegram, app)
        app.services.delivery.register(telegram.messenger, _telegram_limiter(settings))
        # Admin notices go to the Telegram admins' private chats (a private chat's id is the user's id).
        app.services.notifier.register(telegram.messenger, [str(a) for a in settings.telegram.admin_ids])
        app.services.channel_notices.register(telegram.messenger)  # a paused channel's managers are told
        transports.append(telegram)
    if settings.matrix.enabled:
        from bot.transports.matrix import MatrixTransport

        matrix = MatrixTransport(settings.matrix, app, store_dir=settings.matrix.store_path(settings.db_path))
        # Homeservers announce no fixed budget; a shared limiter lets M_LIMIT_EXCEEDED pause every send.
        app.services.delivery.register(matrix.messenger, RateLimiter(MATRIX_SENDS_PER_SECOND))
        transports.append(matrix)
    return transports


@asynccontextmanager
async def running_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    console: bool = False,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    load_seeds: bool = True,
    run_jobs: bool = True,
    engine: MatchEngine | None = None,
) -> AsyncIterator[App]:
    """Start everything. Transports connect before delivery and digests begin, so nothing is sent into a
    platform that is not logged in yet; on exit the scheduler and delivery finish first (they still send),
    then the transports stop, the database last.

    ``run_jobs=False`` keeps scheduled jobs from firing by wall-clock time: tests that drive a fake ``clock``
    pass it and run digests and feed polls themselves."""
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        storage = await Storage.connect(settings)
        stack.push_async_callback(storage.close)
        services, pipeline = await build_services(settings, storage, clock, run_jobs=run_jobs, engine=engine)
        app = App(settings, services, pipeline, build_registry())

        if console:
            app.console = ConsoleTransport(app, stdin, stdout, charts_dir=settings.db_path.parent / "charts")
            services.delivery.register(app.console.messenger)
            services.notifier.register(app.console.messenger, [CONSOLE_CHAT])
        app.transports = _build_transports(app)
        for transport in app.transports:
            await transport.start()
            stack.push_async_callback(transport.stop)

        await services.delivery.start()
        stack.push_async_callback(services.delivery.stop)
        await services.trends.start()  # reads articles stored before trends existed, in the background
        stack.push_async_callback(services.trends.stop)
        if load_seeds:
            await app.load_seeds()
        await services.feeds.start()
        stack.push_async_callback(services.feeds.close)
        await services.scheduler.start()
        stack.push_async_callback(services.scheduler.stop)
        log.info(
            "newsalert running: %s; %d subscriptions",
            ", ".join(t.messenger.platform for t in app.transports) or ("console" if console else "no transport"),
            len(pipeline),
        )
        yield app
