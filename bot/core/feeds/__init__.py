"""Feed rules without I/O: URL and address safety, OPML, poll timing and backoff, change detection."""

from bot.core.feeds.changes import is_substantial_change, item_fingerprint, item_key, token_similarity
from bot.core.feeds.opml import OpmlError, OpmlFeed, export_opml, parse_opml
from bot.core.feeds.policy import (
    backoff_seconds,
    parse_cache_max_age,
    parse_retry_after,
    poll_interval,
)
from bot.core.feeds.results import FeedError, FeedExists, OpmlImport, PollResult
from bot.core.feeds.urls import UnsafeUrl, address_refusal, check_feed_url, literal_address

__all__ = [
    "FeedError",
    "FeedExists",
    "OpmlError",
    "OpmlFeed",
    "OpmlImport",
    "PollResult",
    "UnsafeUrl",
    "address_refusal",
    "backoff_seconds",
    "check_feed_url",
    "export_opml",
    "is_substantial_change",
    "item_fingerprint",
    "item_key",
    "literal_address",
    "parse_cache_max_age",
    "parse_opml",
    "parse_retry_after",
    "poll_interval",
    "token_similarity",
]
