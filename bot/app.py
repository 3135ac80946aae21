"""Builds settings → storage → services → scheduler → transports, and shuts them down in reverse."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TextIO

from bot.core.alerts.pacing import RateLimiter
from bot.core.clock import Clock, SystemClock
from bot.core.matching import MatchEngine
from bot.core.messaging import IncomingCommand, OutgoingMessage, Reply
from bot.core.models import ChatKey
from bot.scheduler import NewsScheduler
from bot.services.chats import ChatLifecycle
from bot.services.container import Services
from bot.services.delivery import DeliveryService
from bot.services.feeds import FeedService
from bot.services.ingest import IngestService
from bot.services.pipeline import MatchPipeline
from bot.services.subscriptions import SubscriptionService
from bot.storage.store import Storage
from bot.transports.base import Transport
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

    async def get_state(self, key: str) -> str | None:
        return await self.storage.kv.get(key)

    async def set_state(self, key: str, value: str) -> None:
        await self.storage.kv.set(key, value)

    def requires_chat_admin(self, command_name: str) -> bool:
        return self.dispatcher.requires_chat_admin(command_name)

    def command_names(self, lang: str) -> list[tuple[str, str]]:
        return [(s.name, self.registry.help_line(s, lang)) for s in self.registry.ordered if not s.admin_only]

    # --- helpers ----------------------------------------------------------------------------------------
    async def notify_admins(self, text: str) -> None:
        """Best effort: a private message to each Telegram admin, or the console."""
        message = OutgoingMessage(text)
        if self.console is not None:
            await self.console.messenger.send("local", message)
        telegram = next((t for t in self.transports if t.messenger.platform == "telegram"), None)
        for admin in self.settings.telegram.admin_ids if telegram else ():
            try:
                await telegram.messenger.send(str(admin), message)  # type: ignore[union-attr]
            except Exception as exc:  # an unreachable admin must not break feed polling
                log.warning("could not notify admin %s: %s", admin, exc)

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


async def build_services(settings: Settings, storage: Storage, clock: Clock) -> tuple[Services, MatchPipeline]:
    engine = await asyncio.to_thread(MatchEngine.load)
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
    chats = ChatLifecycle(storage, pipeline)
    delivery.on_chat_changes(chats.gone, chats.moved)
    services = Services(settings, storage, clock, engine, ingest, subscriptions, delivery, chats)
    return services, pipeline


def _telegram_limiter(settings: Settings) -> RateLimiter:
    tg = settings.telegram
    return RateLimiter(tg.global_rate, tg.per_chat_rate, tg.per_group_per_minute)


def _build_transports(app: App) -> list[Transport]:
    settings = app.settings
    transports: list[Transport] = []
    if settings.telegram.enabled:
        from bot.transports.telegram import TelegramTransport

        telegram = TelegramTransport(settings.telegram, app)
        app.services.delivery.register(telegram.messenger, _telegram_limiter(settings))
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
) -> AsyncIterator[App]:
    """Start everything. Transports connect before delivery and digests begin, so nothing is sent into a
    platform that is not logged in yet; on exit the scheduler and delivery finish first (they still send),
    then the transports stop, the database last."""
    clock = clock or SystemClock()
    async with AsyncExitStack() as stack:
        storage = await Storage.open(settings.db_path)
        stack.push_async_callback(storage.close)
        services, pipeline = await build_services(settings, storage, clock)
        app = App(settings, services, pipeline, build_registry())
        services.feeds = FeedService(storage, settings.feeds, services.ingest, clock, app.notify_admins)
        # With a test clock APScheduler's wall-clock timing would fire jobs at the wrong moments.
        services.scheduler = NewsScheduler(
            storage, services.delivery, clock, services.feeds, run_jobs=isinstance(clock, SystemClock)
        )
        services.chats.scheduler = services.scheduler

        if console:
            app.console = ConsoleTransport(app, stdin, stdout)
            services.delivery.register(app.console.messenger)
        app.transports = _build_transports(app)
        for transport in app.transports:
            await transport.start()
            stack.push_async_callback(transport.stop)

        await services.delivery.start()
        stack.push_async_callback(services.delivery.stop)
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
