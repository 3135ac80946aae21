"""Mention-volume trends: periods, the plan that counts a query from stored entity keys, series and
their statistics, the caption and the chart. Nothing here touches storage or a platform."""

from bot.core.trends.periods import DEFAULT_DAYS, MAX_DAYS, Period, TrendRefused, parse_trend_args
from bot.core.trends.plan import QueryPlan, plan_query
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
