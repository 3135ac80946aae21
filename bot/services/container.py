"""The typed bundle of services that handlers and transports reach through their context.

Built once, complete, by ``bot.app.build_services``: every field is set at construction and none is
optional, so no caller needs an ``is None`` branch. Handlers use the use-case services only (never
``storage`` or ``scheduler``; tests/test_architecture.py checks that).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.clock import Clock
from bot.core.matching import MatchEngine
from bot.services.archive import ArchiveService
from bot.services.channels import ChannelNotices, ChannelService
from bot.services.chat_settings import ChatSettingsService
from bot.services.chats import ChatLifecycle
from bot.services.delivery import DeliveryService
from bot.services.feeds import FeedService
from bot.services.ingest import IngestService
from bot.services.notify import AdminNotifier
from bot.services.planning import JobScheduler
from bot.services.subscriptions import SubscriptionService
from bot.services.summaries import SummaryService
from bot.services.trends import TrendService
from bot.storage.store import Storage
from config.settings import Settings


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    storage: Storage  # for the wiring and transports' key-value state; not for handlers
    clock: Clock
    engine: MatchEngine
    ingest: IngestService
    subscriptions: SubscriptionService
    delivery: DeliveryService
    chats: ChatLifecycle
    feeds: FeedService
    scheduler: JobScheduler  # seen through a protocol: services never import bot.scheduler
    chat_settings: ChatSettingsService
    archive: ArchiveService
    summaries: SummaryService
    notifier: AdminNotifier
    trends: TrendService
    channels: ChannelService  # Telegram channels managed from private chats
    channel_notices: ChannelNotices  # transports register their messenger here
