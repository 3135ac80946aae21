"""Mention-volume trends: periods, the plan that counts a query from stored entity keys, series and
their statistics, the caption and the chart. Nothing here touches storage or a platform."""

from bot.core.trends.periods import DEFAULT_DAYS, MAX_DAYS, Period, TrendRefused, parse_trend_args
from bot.core.trends.series import ArticleMentions, TrendSeries, mention_day

__all__ = [
    "DEFAULT_DAYS",
    "MAX_DAYS",
    "ArticleMentions",
    "Period",
    "QueryPlan",
    "TrendRefused",
    "TrendSeries",
    "mention_day",
    "parse_trend_args",
    "plan_query",
]


def __getattr__(name: str) -> object:
    # The query plan needs the matching engine; loading it lazily keeps `bot.core.trends.series` (imported by
    # storage, and so by every command that opens the database) free of the engine's import cost.
    if name in ("QueryPlan", "plan_query"):
        from bot.core.trends import plan

        return getattr(plan, name)
    raise AttributeError(name)
