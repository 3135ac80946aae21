"""Pure building blocks of alerts and digests: schedules in local time, message text, splitting, pacing.

No storage and no scheduler here; the delivery service composes these with the outbox.
"""

from bot.core.alerts.compose import (
    AlertEntry,
    DigestText,
    Labels,
    Story,
    compose_alert,
    compose_digest,
    fingerprint,
    fold_near_duplicates,
    group_by_query,
    labels_for,
    similar,
)
from bot.core.alerts.pacing import RateLimiter
from bot.core.alerts.schedule import (
    UnknownTimezone,
    in_quiet_hours,
    missed_digest,
    next_digest_at,
    parse_hhmm,
    parse_quiet,
    preload_timezone_names,
    quiet_ends_at,
    validate_timezone,
)
from bot.core.alerts.split import plain_length, plain_text, split_message

__all__ = [
    "AlertEntry",
    "DigestText",
    "Labels",
    "RateLimiter",
    "Story",
    "UnknownTimezone",
    "compose_alert",
    "compose_digest",
    "fingerprint",
    "fold_near_duplicates",
    "group_by_query",
    "in_quiet_hours",
    "labels_for",
    "missed_digest",
    "next_digest_at",
    "parse_hhmm",
    "parse_quiet",
    "plain_length",
    "plain_text",
    "preload_timezone_names",
    "quiet_ends_at",
    "similar",
    "split_message",
    "validate_timezone",
]
