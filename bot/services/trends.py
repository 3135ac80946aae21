"""Trend charts: how often the archive names a query per day, counted from the entity keys stored at
ingest (see bot/core/trends/plan.py), with the caption's figures and the PNG.

Counting that needs Python work (boolean queries, confirming free-text candidates) and rendering run in
worker threads; the SQL runs in aiosqlite's thread. Articles stored before trends existed, or archived
without matching, are read once in batches by a background task.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.clock import Clock
from bot.core.i18n import N_, Translator
from bot.core.matching import MatchEngine, QueryError
from bot.core.matching.keys import KeyScanner, entity_id
from bot.core.models import Article
from bot.core.trends.caption import caption, empty_text
from bot.core.trends.chart import HEIGHT, WIDTH, render_png
from bot.core.trends.confirm import TextConfirmer
from bot.core.trends.periods import Period, TrendRefused, check_days
from bot.core.trends.plan import QueryPlan, matching_ids, plan_query
from bot.core.trends.series import ArticleMentions, TrendSeries, mention_day
from bot.services.pipeline import article_text
from bot.storage.store import Storage

log = logging.getLogger(__name__)

INDEX_BATCH = 500
CONFIRM_BATCH = 2_000  # candidates per thread hop: fewer round trips, still bounded memory
CATCH_UP_LIMIT = 2_000  # a request reads this many unindexed articles itself before counting
CO_MENTIONS = 5
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class TrendReport:
    period: Period
    series: tuple[TrendSeries, ...]
    pending: int = 0  # articles not read yet (a backfill still running): the counts may be low

    @property
    def empty(self) -> bool:
        return not any(s.total for s in self.series)


@dataclass(frozen=True, slots=True)
class TrendChart:
    caption: str  # safe HTML
    png: bytes
    width: int = WIDTH
    height: int = HEIGHT


class TrendService:
    def __init__(self, storage: Storage, engine: MatchEngine, clock: Clock) -> None:
        self._storage = storage
        self._engine = engine
        self._clock = clock
        self._keys: KeyScanner | None = None  # built in the first indexing thread, not on the loop
        self._index_lock = asyncio.Lock()
        self._backfill: asyncio.Task[int] | None = None

    # -- reading articles nobody scanned yet -----------------------------------------------------------------
    async def start(self) -> None:
        """Read articles stored before trends existed, in the background, batch by batch."""
        self._backfill = asyncio.create_task(self._run_backfill(), name="trends-backfill")

    async def stop(self) -> None:
        if self._backfill is not None and not self._backfill.done():
            self._backfill.cancel()
            with suppress(asyncio.CancelledError):
                await self._backfill

    async def settle(self) -> None:
        """Finish reading what nobody has read yet: the background backfill, then anything stored since
        (``db check``-like callers and tests that compare the database before and after)."""
        if self._backfill is not None:
            with suppress(asyncio.CancelledError):
                await self._backfill
        await self.index_pending()

    async def _run_backfill(self) -> int:
        pending = await self._storage.trends.pending_count()
        if pending > CATCH_UP_LIMIT:
            log.info("trends: reading %d article(s) stored before, in batches of %d", pending, INDEX_BATCH)
        try:
            done = await self.index_pending()
        except Exception:  # a broken backfill must not take the bot down; requests catch up themselves
            log.exception("trends: backfill stopped")
            return 0
        if done:
            log.info("trends: %d article(s) read", done)
        return done

    async def index_pending(self, progress: Progress | None = None) -> int:
        """Store the mentions of every article that has none yet; returns how many were read."""
        done = 0
        async with self._index_lock:
            while ids := await self._storage.trends.pending_ids(INDEX_BATCH):
                articles = await self._storage.articles.get_many(ids)
                mentions = await asyncio.to_thread(self._scan, articles)
                await self._storage.trends.record(mentions)
                done += len(ids)
                if progress is not None:
                    progress(len(ids))
        return done

    def _scan(self, articles: list[Article]) -> list[ArticleMentions]:
        if self._keys is None:
            self._keys = KeyScanner(self._engine.lexicon)
        keys = self._keys
        return [
            ArticleMentions(a.id, mention_day(a.published, a.ingested_at), keys.keys(article_text(a), a.lang))
            for a in articles
        ]

    # -- counting ---------------------------------------------------------------------------------------------
    def today(self, timezone: str) -> date:
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        return self._clock.now().astimezone(zone).date()

    def plans(self, queries: Sequence[str]) -> list[QueryPlan]:
        """Raises TrendRefused (nothing is counted) when a query cannot be understood."""
        plans = []
        for query in queries:
            try:
                compiled = self._engine.compile(query)
            except QueryError as exc:
                raise TrendRefused(N_("I could not understand that query: {error}"), error=str(exc)) from None
            plans.append(plan_query(compiled))
        return plans

    async def report(
        self, queries: Sequence[str], days: int, *, timezone: str = "UTC", lang: str = "en", until: date | None = None
    ) -> TrendReport:
        """Counts per day of each query over ``days`` days up to ``until`` (default: today in ``timezone``)."""
        plans = self.plans(queries)
        period = Period(until or self.today(timezone), check_days(days))
        pending = await self._storage.trends.pending_count()
        if 0 < pending <= CATCH_UP_LIMIT:
            await self.index_pending()
            pending = await self._storage.trends.pending_count()
        elif pending and (self._backfill is None or self._backfill.done()):
            await self.start()  # e.g. a large archive-only ingest since start: read it in the background
        series = [await self._series(plan, period, lang) for plan in plans]
        return TrendReport(period, tuple(series), pending)

    async def _series(self, plan: QueryPlan, period: Period, lang: str) -> TrendSeries:
        repo = self._storage.trends
        if plan.single:  # the common case: the database counts, no article id crosses into Python
            key = plan.keys[0]
            per_day = await repo.day_counts(key, period.previous_start, period.end)
            named = self._names(plan, await repo.co_mentions_of_key(key, period.start, period.end), lang)
            return TrendSeries.from_counts(plan.query, plan.query, period, per_day, named)
        matched = await self._matched(plan, period.previous_start, period.end)
        current = [aid for aid, day in matched.items() if day >= period.start]
        named = self._names(plan, await repo.co_mentions(current), lang)
        return TrendSeries.count(plan.query, plan.query, period, matched.values(), named)

    def _names(self, plan: QueryPlan, counts: Counter[str], lang: str) -> tuple[tuple[str, int], ...]:
        """The entities most often named alongside, in the chat's language (not the query's own)."""
        entries = self._engine.lexicon.entries
        own = set(plan.positive_keys)
        named = []
        for key, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):  # ties: stable order
            entry = entity_id(key)
            if key in own or entry is None or entry not in entries:
                continue
            named.append((entries[entry].name(lang), n))
            if len(named) == CO_MENTIONS:
                break
        return tuple(named)

    async def _matched(self, plan: QueryPlan, start: date, end: date) -> dict[int, date]:
        """Article id → day of every article from ``start`` to ``end`` the query matches."""
        naming = {key: await self._storage.trends.naming(key, start, end) for key in plan.keys}
        if plan.exact:
            return await asyncio.to_thread(_decide, plan, naming)
        candidates = _dated({aid: day for key in plan.positive_keys for aid, day in naming[key].items()})
        for search in plan.searches:
            candidates.update(await self._storage.trends.fts_candidates(search.word_sets, start, end))
            if search.tails:
                candidates.update(await self._storage.trends.tail_candidates(search.tails, start, end))
        return await self._confirm(plan, candidates, TextConfirmer(plan, naming, self._engine))

    async def _confirm(
        self, plan: QueryPlan, candidates: dict[int, date], confirmer: TextConfirmer
    ) -> dict[int, date]:
        """Every candidate decided exactly as for a subscription: by the query's own free-text terms and the
        entity keys stored at ingest, or by the full matcher where the keys are not stored yet."""
        ids = sorted(candidates)
        matched: dict[int, date] = {}
        for begin in range(0, len(ids), CONFIRM_BATCH):
            texts = await self._storage.trends.texts(ids[begin : begin + CONFIRM_BATCH])
            found = await asyncio.to_thread(self._matching_ids, plan.query, confirmer, texts)
            matched.update({aid: candidates[aid] for aid in found})
        return matched

    def _matching_ids(
        self, query: str, confirmer: TextConfirmer, texts: list[tuple[int, str, str, bool]]
    ) -> list[int]:
        match = self._engine.match
        return [
            aid
            for aid, text, lang, indexed in texts
            if (confirmer.matches(aid, text, lang) if indexed else match(query, text, lang).matched)
        ]

    # -- showing ----------------------------------------------------------------------------------------------
    async def chart(self, report: TrendReport, t: Translator) -> TrendChart:
        png = await asyncio.to_thread(render_png, report.series, t)
        return TrendChart(caption(report.series, t, report.pending), png)

    @staticmethod
    def empty_sentence(report: TrendReport, t: Translator) -> str:
        return empty_text(report.series, t)


def _decide(plan: QueryPlan, naming: dict[str, dict[int, str]]) -> dict[int, date]:
    """Apply the query's AND/OR/NOT to the articles naming each key (set operations, no per-article loop)."""
    days: dict[int, str] = {}
    for found in naming.values():
        days.update(found)
    ids = matching_ids(plan, {key: set(found) for key, found in naming.items()})
    return _dated({aid: days[aid] for aid in ids})


def _dated(iso_days: dict[int, str]) -> dict[int, date]:
    """ISO text → date, parsed once per distinct day (a few hundred among tens of thousands of articles)."""
    parsed: dict[str, date] = {}
    return {aid: parsed.get(day) or parsed.setdefault(day, date.fromisoformat(day)) for aid, day in iso_days.items()}
