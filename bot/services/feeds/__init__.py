"""Feeds: a safe HTTP client (:mod:`.http`), polling (:mod:`.polling`), administration (:mod:`.admin`),
full-text fetching (:mod:`.fulltext`), wired together by :class:`FeedService` (:mod:`.service`)."""

from bot.services.feeds.fulltext import MAX_FULL_TEXT_PER_POLL
from bot.services.feeds.http import (
    FEED_ACCEPT,
    MAX_REDIRECTS,
    PAGE_ACCEPT,
    USER_AGENT,
    AddressPolicy,
    FeedFetcher,
    Fetched,
    FetchError,
    UnsafeAddressError,
)
from bot.services.feeds.polling import FORGET_UNLISTED_AFTER, NotifyAdmins
from bot.services.feeds.service import FeedService

__all__ = [
    "FEED_ACCEPT",
    "FORGET_UNLISTED_AFTER",
    "MAX_FULL_TEXT_PER_POLL",
    "MAX_REDIRECTS",
    "PAGE_ACCEPT",
    "USER_AGENT",
    "AddressPolicy",
    "FeedFetcher",
    "FeedService",
    "FetchError",
    "Fetched",
    "NotifyAdmins",
    "UnsafeAddressError",
]
