"""Builds settings → storage → services → scheduler → transports, and shuts them down in reverse."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
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
from bot.storage.leader import Leadership, leadership_for
from bot.storage.store import Storage
from bot.transports.base import Transport
from bot.transports.console import CHAT_ID as CONSOLE_CHAT
from bot.transports.console import ConsoleTransport
from config.settings import Settings
from handlers.registry import Dispatcher, Registry, build_registry

log = logging.getLogger(__name__)

MATRIX_SENDS_PER_SECOND = 20.0
SUBSCRIPTION_SYNC_SECONDS = 30.0  # several instances: how soon another instance's /subscribe matches here
LEADER_RESTART_SECONDS = 5.0  # after the leader's receivers failed to start, try leading again this much later
FIRST_LEAD_SECONDS = 1.0  # at start, how long the first try for leadership may take (one try; then background)


class App:
    """The running application; transports talk to it through the ``TransportHost`` protocol."""

    def __init__(self, settings: Settings, services: Services, pipeline: MatchPipeline, registry: Registry) -> None:
        self.settings = settings
        self.services = services
        self.pipeline = pipeline
        self.registry = registry
        self.dispatcher = Dispatcher(registry, services)
        self.transports: list[Transport] = []
        self.devices: list[Transport] = []  # several instances: run whole on the leader only (the Matrix device)
        self.console: ConsoleTransport | None = None
        self._stop_leading: Callable[[], Awaitable[None]] | None = None

    async def stop_leading(self) -> None:
        """Several instances: stop the receivers that run once and release leadership (shutdown does this
        first, so a follower takes over at once). Idempotent; nothing to do on SQLite."""
        if self._stop_leading is not None:
            await self._stop_leading()

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
    engine = engine or await asyncio.to_thread(MatchEngine.load, settings.cache_dir)
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


@dataclass
class OnceReceivers:
    """What may run on one instance only, started and stopped as leadership comes and goes: Telegram long
    polling, the Matrix device (sync and its end-to-end keys: sending too), the scheduler's digest and feed
    jobs. Everything else (sending, delivery, webhooks) runs on every instance."""

    app: App
    pollers: list[Transport] = field(default_factory=list)  # started without receiving; leader polls
    devices: list[Transport] = field(default_factory=list)  # started whole on the leader only
    _running: bool = False

    async def start(self) -> None:
        if self._running:  # started in line at the first start already (see _start_leadership)
            return
        self._running = True
        # The old leader may have taken subscriptions since this instance loaded its index.
        await self.app.pipeline.sync()
        for poller in self.pollers:
            await poller.start_receiving()  # type: ignore[attr-defined]
        for device in self.devices:
            await device.start()
            self.app.services.delivery.register(
                device.messenger, RateLimiter(MATRIX_SENDS_PER_SECOND), global_rate=MATRIX_SENDS_PER_SECOND
            )
        await self.app.services.scheduler.start()

    async def stop(self) -> None:
        """Idempotent: run after a failed start, a lost leadership and at shutdown."""
        if not self._running:
            return
        self._running = False
        await self.app.services.scheduler.stop()
        for device in self.devices:
            self.app.services.delivery.unregister(device.messenger.platform)
            await device.stop()
        for poller in self.pollers:
            await poller.stop_receiving()  # type: ignore[attr-defined]


async def _sync_subscriptions_forever(pipeline: MatchPipeline) -> None:
    """Several instances: each matches what it ingests (feeds on the leader, ``addseed`` anywhere) against
    subscriptions other instances took as well."""
    while True:
        await asyncio.sleep(SUBSCRIPTION_SYNC_SECONDS)
        try:
            changed = await pipeline.sync()
        except Exception:  # the database is away for a moment: the next round catches up
            log.exception("could not follow other instances' subscriptions")
            continue
        if changed:
            log.info("followed %d subscription change(s) made on other instances", changed)


async def _lead_forever(leadership: Leadership, receivers: OnceReceivers) -> None:
    """Lead whenever this instance can; a leader whose receivers fail to start steps back and tries again."""
    while True:
        try:
            await leadership.run_as_leader(receivers.start, receivers.stop)
        except Exception:
            log.exception("the receivers that run once failed; leading again in %.0fs", LEADER_RESTART_SECONDS)
            await asyncio.sleep(LEADER_RESTART_SECONDS)


def _build_transports(app: App, receivers: OnceReceivers | None = None) -> list[Transport]:
    """The transports started on this instance. With ``receivers`` (several instances on PostgreSQL) the
    Telegram poller and the Matrix device are handed to the leader instead of starting here."""
    settings = app.settings
    transports: list[Transport] = []
    if settings.telegram.enabled:
        from bot.transports.telegram import TelegramTransport

        telegram = TelegramTransport(settings.telegram, app)
        app.services.delivery.register(
            telegram.messenger, _telegram_limiter(settings), global_rate=settings.telegram.send_rate
        )
        # Admin notices go to the Telegram admins' private chats (a private chat's id is the user's id).
        app.services.notifier.register(telegram.messenger, [str(a) for a in settings.telegram.admin_ids])
        app.services.channel_notices.register(telegram.messenger)  # a paused channel's managers are told
        transports.append(telegram)
        if receivers is not None and not telegram.receives_everywhere:
            receivers.pollers.append(telegram)
    if settings.matrix.enabled:
        from bot.transports.matrix import MatrixTransport

        matrix = MatrixTransport(settings.matrix, app, store_dir=settings.matrix.store_path(settings.db_path))
        if receivers is not None:
            receivers.devices.append(matrix)
        else:
            # Homeservers announce no fixed budget; a shared limiter lets M_LIMIT_EXCEEDED pause every send.
            app.services.delivery.register(matrix.messenger, RateLimiter(MATRIX_SENDS_PER_SECOND))
            transports.append(matrix)
    return transports


async def _start_transports(app: App, stack: AsyncExitStack, receivers: OnceReceivers | None) -> None:
    for transport in app.transports:
        if receivers is not None and transport in receivers.pollers:
            await transport.start(receive=False)  # type: ignore[call-arg]
        else:
            await transport.start()
        stack.push_async_callback(transport.stop)


async def _start_leadership(app: App, stack: AsyncExitStack, leadership: Leadership, receivers: OnceReceivers) -> None:
    """Lead in the background; at shutdown stop the receivers and release the lock, so that a follower
    takes over at once instead of after a timeout. When nobody leads yet, this instance leads before
    ``running_app`` returns, and a receiver that cannot start fails the start (as on SQLite)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(FIRST_LEAD_SECONDS):
            await leadership.acquire()
    if leadership.is_leader:
        try:
            await receivers.start()
        except BaseException:
            await receivers.stop()
            await leadership.release()
            raise
    tasks = [
        asyncio.create_task(_lead_forever(leadership, receivers), name="leadership"),
        asyncio.create_task(_sync_subscriptions_forever(receivers.app.pipeline), name="subscription-sync"),
    ]

    async def stop() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await receivers.stop()  # cancelled between acquire and start: run_as_leader had nothing to stop

    app._stop_leading = stop
    stack.push_async_callback(stop)


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
        # SQLite: one process, always the leader, started in line as before. PostgreSQL: maybe one of several.
        leadership = leadership_for(storage.db)
        stack.push_async_callback(leadership.close)
        services, pipeline = await build_services(settings, storage, clock, run_jobs=run_jobs, engine=engine)
        app = App(settings, services, pipeline, build_registry())
        receivers = OnceReceivers(app) if storage.db.dialect == "postgres" else None

        if console:
            app.console = ConsoleTransport(app, stdin, stdout, charts_dir=settings.db_path.parent / "charts")
            services.delivery.register(app.console.messenger)
            services.notifier.register(app.console.messenger, [CONSOLE_CHAT])
        app.transports = _build_transports(app, receivers)
        app.devices = receivers.devices if receivers is not None else []
        await _start_transports(app, stack, receivers)

        await services.delivery.start()
        stack.push_async_callback(services.delivery.stop)
        await services.trends.start()  # reads articles stored before trends existed, in the background
        stack.push_async_callback(services.trends.stop)
        if load_seeds:
            await app.load_seeds()
        await services.feeds.start()
        stack.push_async_callback(services.feeds.close)
        if receivers is None:
            await services.scheduler.start()
            stack.push_async_callback(services.scheduler.stop)
        else:
            await _start_leadership(app, stack, leadership, receivers)
        log.info(
            "newsalert running: %s; %d subscriptions",
            ", ".join(t.messenger.platform for t in [*app.transports, *app.devices])
            or ("console" if console else "no transport"),
            len(pipeline),
        )
        yield app
