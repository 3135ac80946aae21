"""Delivery: the outbox worker (``worker``), sending one claimed message (``sender``), alert rendering
(``rendering``) and summary caching (``summary_cache``). Callers import from here."""

from bot.services.delivery.rendering import FINGERPRINT_CACHE, RENDER_CACHE, AlertRenderer, Rendered
from bot.services.delivery.results import DeliveryResult
from bot.services.delivery.sender import MAX_BACKOFF, MAX_REFUSALS, OutboxSender
from bot.services.delivery.summary_cache import SummaryCache
from bot.services.delivery.worker import DEFAULT_CONCURRENCY, IDLE_WAKE_SECONDS, STOP_GRACE_SECONDS, DeliveryService

__all__ = [
    "DEFAULT_CONCURRENCY",
    "FINGERPRINT_CACHE",
    "IDLE_WAKE_SECONDS",
    "MAX_BACKOFF",
    "MAX_REFUSALS",
    "RENDER_CACHE",
    "STOP_GRACE_SECONDS",
    "AlertRenderer",
    "DeliveryResult",
    "DeliveryService",
    "OutboxSender",
    "Rendered",
    "SummaryCache",
]
