"""Counts per day for one query, and what the caption says about them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.core.trends.periods import Period


@dataclass(slots=True, unsafe_hash=True)  # built per imported article: not frozen (see bot.core.models)
class ArticleMentions:
    """The entity keys one article names, on the day it is dated by (stored at ingest)."""

    article_id: int
    day: date
    keys: tuple[str, ...]


def mention_day(published: date | None, ingested_at: datetime) -> date:
    """Articles are dated by publication; one without a date by the day it was stored (UTC)."""
    return published if published is not None else ingested_at.date()


@dataclass(frozen=True, slots=True)
class TrendSeries:
    query: str  # as typed
    label: str  # as shown in the legend
    period: Period
    daily: dict[date, int]  # every day of the period, zeros included
    previous_total: int  # the equally long period before
    co_mentions: tuple[tuple[str, int], ...] = field(default=())  # (entity name, articles), most first

    @classmethod
    def count(
        cls, query: str, label: str, period: Period, days: Iterable[date],
        co_mentions: tuple[tuple[str, int], ...] = (),
    ) -> TrendSeries:
        """From the dates of the matching articles of both periods."""
        return cls.from_counts(query, label, period, Counter(days), co_mentions)

    @classmethod
    def from_counts(
        cls, query: str, label: str, period: Period, per_day: Mapping[date, int],
        co_mentions: tuple[tuple[str, int], ...] = (),
    ) -> TrendSeries:
        """From articles per day over both periods."""
        daily = {d: per_day.get(d, 0) for d in period.dates()}
        previous = sum(n for d, n in per_day.items() if period.previous_start <= d < period.start)
        return cls(query, label, period, daily, previous, co_mentions)

    @property
    def total(self) -> int:
        return sum(self.daily.values())

    @property
    def busiest(self) -> tuple[date, int] | None:
        """The day with most articles (the latest of equal days: the news that is still running)."""
        if not self.total:
            return None
        day = max(self.daily, key=lambda d: (self.daily[d], d))
        return day, self.daily[day]

    @property
    def change(self) -> float | None:
        """Relative change against the previous period; None when that had no article."""
        if not self.previous_total:
            return None
        return (self.total - self.previous_total) / self.previous_total

    def points(self) -> list[tuple[date, int]]:
        """What the chart draws: per day, or per week (Monday) beyond 90 days."""
        buckets: Counter[date] = Counter({b: 0 for b in self.period.buckets()})
        for day, n in self.daily.items():
            buckets[self.period.bucket_of(day)] += n
        return sorted(buckets.items())

    def as_json(self) -> dict[str, int]:
        return {d.isoformat(): n for d, n in sorted(self.daily.items())}
