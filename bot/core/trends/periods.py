"""The period a trend covers, and reading ``trend <query>[, <query>…] [7d|30d|90d|1y]``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core.i18n import N_, Refusal

DEFAULT_DAYS = 30
WEEKLY_AFTER_DAYS = 90  # beyond this a chart shows weeks: 365 daily points are noise at 1200 px
MAX_DAYS = 3660
MAX_QUERIES = 3
_PERIOD = re.compile(r"^(\d{1,4})([dwmy])$", re.IGNORECASE)
_UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


class TrendRefused(Refusal):
    """A trend request that cannot be answered."""


@dataclass(frozen=True, slots=True)
class Period:
    """``days`` days up to and including ``end`` (the chat's today), and the equally long one before."""

    end: date
    days: int = DEFAULT_DAYS

    @property
    def start(self) -> date:
        return self.end - timedelta(days=self.days - 1)

    @property
    def previous_start(self) -> date:
        return self.start - timedelta(days=self.days)

    @property
    def weekly(self) -> bool:
        return self.days > WEEKLY_AFTER_DAYS

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]

    def bucket_of(self, day: date) -> date:
        """The day itself, or the Monday of its week when the chart shows weeks."""
        return day - timedelta(days=day.weekday()) if self.weekly else day

    def buckets(self) -> list[date]:
        return sorted({self.bucket_of(d) for d in self.dates()})


def period_days(token: str) -> int | None:
    """``7d`` → 7, ``2w`` → 14, ``1y`` → 365; None when ``token`` is not a period."""
    match = _PERIOD.match(token.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_DAYS[match.group(2).lower()]


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise TrendRefused(N_("A trend covers 1 to {max} days."), max=MAX_DAYS)
    return days


def parse_trend_args(args: str) -> tuple[list[str], int]:
    """``"Putin, Kim 90d"`` → (["Putin", "Kim"], 90). Queries are separated by commas; a period, if any,
    is the last word."""
    text = args.strip()
    days = DEFAULT_DAYS
    head, _, last = text.rpartition(" ")
    given = period_days(last) if last else None
    if given is None and period_days(text) is not None:
        raise TrendRefused(N_("Which query should the trend show? e.g. <code>{p}trend Putin 90d</code>"))
    if given is not None:
        days, text = check_days(given), head
    queries = [q.strip() for q in text.split(",") if q.strip()]
    if not queries:
        raise TrendRefused(N_("Which query should the trend show? e.g. <code>{p}trend Putin 90d</code>"))
    if len(queries) > MAX_QUERIES:
        raise TrendRefused(N_("One chart compares up to {max} queries; you gave {count}."), max=MAX_QUERIES,
                           count=len(queries))
    return list(dict.fromkeys(queries)), days
