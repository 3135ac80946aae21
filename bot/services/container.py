"""The typed bundle of services that handlers and transports reach through their context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.clock import Clock
from bot.storage.store import Storage
from config.settings import Settings

if TYPE_CHECKING:
    from bot.core.matching import MatchEngine
    from bot.scheduler import NewsScheduler
    from bot.services.chats import ChatLifecycle
    from bot.services.delivery import DeliveryService
    from bot.services.feeds import FeedService
    from bot.services.ingest import IngestService
    from bot.services.subscriptions import SubscriptionService


@dataclass(slots=True)
class Services:
    settings: Settings
    storage: Storage
    clock: Clock
    engine: MatchEngine
    ingest: IngestService
    subscriptions: SubscriptionService
    delivery: DeliveryService
    chats: ChatLifecycle
    feeds: FeedService | None = None
    scheduler: NewsScheduler | None = None
