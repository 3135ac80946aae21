"""When to poll a feed next: the normal interval from server hints, and backoff after failures."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Server hints may only slow polling down, and only this far: a feed announcing ttl=10080 (a week) is
# still looked at a few times a day, so a forgotten ttl does not hide news for days.
MAX_HINT_SECONDS = 6 * 3600
MAX_BACKOFF_SECONDS = 12 * 3600

_MAX_AGE = re.compile(r"(?:^|[,\s])(s-maxage|max-age)\s*=\s*\"?(\d+)\"?", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])(no-cache|no-store)(?:$|[,\s=])", re.IGNORECASE)


def parse_cache_max_age(header: str | None) -> int | None:
    """Seconds from ``Cache-Control: max-age`` (``s-maxage`` wins, as for a shared cache); ``None`` when
    absent, unparsable or combined with ``no-cache``/``no-store``."""
    if not header or _NO_CACHE.search(header):
        return None
    found = {name.lower(): int(value) for name, value in _MAX_AGE.findall(header)}
    return found.get("s-maxage", found.get("max-age"))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


def poll_interval(
    default_seconds: int, ttl_minutes: int | None = None, max_age_seconds: int | None = None
) -> int:
    """The feed's polling interval: the configured default, lengthened (never shortened) by the feed's
    ``ttl`` or the response's ``max-age``, at most to :data:`MAX_HINT_SECONDS`."""
    hints = [h for h in (ttl_minutes * 60 if ttl_minutes else None, max_age_seconds) if h and h > 0]
    if not hints:
        return default_seconds
    ceiling = max(default_seconds, MAX_HINT_SECONDS)
    return min(max(default_seconds, *hints), ceiling)


def backoff_seconds(
    failures: int,
    base_seconds: float,
    rng: random.Random,
    *,
    retry_after: float | None = None,
    ceiling: float = MAX_BACKOFF_SECONDS,
) -> float:
    """Delay before the next attempt after ``failures`` consecutive failures (≥ 1).

    Doubles from ``base_seconds`` up to ``ceiling``; a random factor in [0.5, 1] spreads feeds that failed
    together (one host down) so they do not all come back in the same second. A server's ``Retry-After``
    is honoured as a lower bound, within the ceiling.
    """
    exponent = min(max(failures, 1) - 1, 30)  # 2**30 × base is far past any ceiling
    delay = min(base_seconds * (2**exponent), ceiling)
    delay *= 0.5 + rng.random() / 2
    if retry_after is not None:
        delay = max(delay, min(retry_after, ceiling))
    return max(delay, 1.0)
