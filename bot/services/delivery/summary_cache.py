"""Summary bullets per (article, focus): computed once, kept in SQLite and in a small memory cache.

A fan-out asks for the same summary from many chats at once: they share one computation.
"""

from __future__ import annotations

import asyncio
import logging

from bot.core.clock import Clock
from bot.core.lru import LRUCache
from bot.core.matching import MatchEngine
from bot.core.models import Article
from bot.core.summary import summarize
from bot.storage.store import Storage

log = logging.getLogger(__name__)

BULLET_CACHE = 1024  # (article, focus) pairs kept in memory

_Key = tuple[int, str]


class SummaryCache:
    def __init__(self, storage: Storage, engine: MatchEngine, clock: Clock, *, bullet_count: int) -> None:
        self._storage = storage
        self._engine = engine
        self._clock = clock
        self._bullet_count = bullet_count
        self._known: LRUCache[_Key, tuple[str, ...]] = LRUCache(BULLET_CACHE)
        self._in_progress: dict[_Key, asyncio.Future[list[str]]] = {}

    async def bullets(self, article: Article, focus_query: str | None) -> list[str]:
        """Summary bullets of ``article``, focused on ``focus_query`` when given. A summariser failure costs
        the bullets, never the alert."""
        key = (article.id, (focus_query or "").casefold())
        known = self._known.get(key)
        if known is not None:
            return list(known)
        task = self._in_progress.get(key)
        if task is None:
            task = asyncio.ensure_future(self._summarize_once(article, focus_query, key[1]))
            self._in_progress[key] = task
            task.add_done_callback(lambda _: self._in_progress.pop(key, None))
        try:
            bullets = await asyncio.shield(task)
        except Exception:
            log.exception("summary of article %d failed; sending it without bullets", article.id)
            return []
        self._known.put(key, tuple(bullets))
        return list(bullets)

    async def _summarize_once(self, article: Article, focus_query: str | None, focus_key: str) -> list[str]:
        cached = await self._storage.summaries.get(article.id, focus_key)
        if cached is not None:
            return cached
        focus = self._engine.focus_predicate(focus_query) if focus_query else None
        bullets = await asyncio.to_thread(
            summarize,
            article.body,
            focus=focus,
            max_bullets=self._bullet_count,
            lang=article.lang,
            title=article.title,
            teaser_only=article.teaser_only,
        )
        await self._storage.summaries.put(article.id, focus_key, bullets, self._clock.now())
        return bullets
