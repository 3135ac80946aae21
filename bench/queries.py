"""Subscription queries for the benchmarks that need a realistic set of distinct ones."""

from __future__ import annotations

from bench.match import make_queries
from bot.core.matching import MatchEngine, QueryError


def distinct_queries(articles: list[str], engine: MatchEngine, count: int) -> list[str]:
    """``count`` subscriptions that each follow something different: the match benchmark's realistic mix,
    with aliases of one entity ("USA", "U.S.", "Amerika") kept once, as one chat would follow them once."""
    chosen: dict[str, str] = {}
    for query in make_queries(articles, engine, count * 2):
        try:
            key = engine.resolve(query).key
        except QueryError:
            continue
        chosen.setdefault(key, query)
        if len(chosen) >= count:
            break
    return list(chosen.values())
