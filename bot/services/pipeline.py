"""New articles → one match pass over all subscriptions → outbox rows → delivery, event-driven.

The subscription index is compiled once from SQLite at start and kept in step by the subscription service;
the per-article cost does not depend on how many chats follow a query.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.core.clock import Clock
from bot.core.matching import MatchEngine, MatchResult, QueryError, SubscriptionIndex
from bot.core.matching.keys import entity_keys
from bot.core.models import Article, Subscription
from bot.core.trends.series import ArticleMentions, mention_day
from bot.storage.outbox import NewOutboxRow
from bot.storage.store import Storage

log = logging.getLogger(__name__)

# Articles per match pass and per write transaction: the ingest's batch, so each ingest batch costs one
# transaction (mentions, flags and alerts together) instead of two per half batch.
MATCH_BATCH = 1000


@dataclass(frozen=True, slots=True)
class _SubRef:
    chat_id: int
    query: str


def article_text(article: Article) -> str:
    """What the matcher reads: the title, then the body."""
    return f"{article.title}\n\n{article.body}"


class MatchPipeline:
    def __init__(
        self, storage: Storage, engine: MatchEngine, clock: Clock, on_enqueued: Callable[[], Awaitable[None]]
    ) -> None:
        self._storage = storage
        self._clock = clock
        self._index = SubscriptionIndex(engine)
        self._subs: dict[int, _SubRef] = {}
        # Matching runs in a worker thread; index edits (on the event loop) must not interleave with it. The
        # thread takes the lock per article, so an edit waits for one article at most, never a whole batch.
        self._lock = threading.Lock()
        # Batches are matched one at a time and written in the order they were matched, but batch k is matched
        # while batch k-1's rows are being written (see _queue): the matching thread no longer waits for
        # the database between batches. Both locks are FIFO, so the outbox keeps the order of the calls.
        self._matching = asyncio.Lock()
        self._writing = asyncio.Lock()
        self._on_enqueued = on_enqueued

    async def load(self) -> int:
        """Compile every active subscription (in a thread: 100k take seconds), then catch up on articles
        whose matching a crash interrupted."""
        subs = await self._storage.subscriptions.all_active()
        loaded = await asyncio.to_thread(self._add_all, subs)
        log.info("matching index built: %d subscriptions", loaded)
        unmatched = await self._storage.articles.unmatched_ids()
        if unmatched:
            log.warning("matching %d article(s) stored before an interruption", len(unmatched))
            await self.process(unmatched)
        return loaded

    def _add_all(self, subs: list[Subscription]) -> int:
        loaded = 0
        for sub in subs:
            with self._lock:
                loaded += self._add_locked(sub)
        return loaded

    def _add_locked(self, sub: Subscription) -> bool:
        try:
            self._index.add(sub.id, sub.query)
        except QueryError as exc:
            # A lexicon or grammar change can make an old query invalid: skip it loudly, keep the bot up.
            log.error("subscription %d (%r) no longer compiles and is skipped: %s", sub.id, sub.query, exc)
            return False
        self._subs[sub.id] = _SubRef(sub.chat_id, sub.query)
        return True

    def add(self, sub: Subscription) -> None:
        with self._lock:
            self._add_locked(sub)

    def remove(self, sub_id: int) -> None:
        with self._lock:
            if self._subs.pop(sub_id, None) is not None:
                self._index.remove(sub_id)

    def remove_chat(self, chat_id: int) -> None:
        with self._lock:
            for sub_id in [s for s, ref in self._subs.items() if ref.chat_id == chat_id]:
                del self._subs[sub_id]
                self._index.remove(sub_id)

    async def sync(self) -> int:
        """Follow subscriptions other instances added or removed (several instances on one database): only
        the difference is compiled. Returns how many changed."""
        subs = {sub.id: sub for sub in await self._storage.subscriptions.all_active()}
        gone = [sub_id for sub_id in list(self._subs) if sub_id not in subs]
        new = [sub for sub_id, sub in subs.items() if sub_id not in self._subs]
        for sub_id in gone:
            self.remove(sub_id)
        if new:
            await asyncio.to_thread(self._add_all, new)
        return len(gone) + len(new)

    def __len__(self) -> int:
        return len(self._subs)

    async def process(self, article_ids: Sequence[int]) -> int:
        """Match stored articles (loaded by id) and queue their alerts. Returns rows written."""
        written = 0
        for start in range(0, len(article_ids), MATCH_BATCH):
            batch = list(article_ids[start : start + MATCH_BATCH])
            articles = await self._storage.articles.get_many(batch) if self._subs else []
            written += await self._queue(batch, articles)
        return await self._announce(written, len(article_ids))

    async def process_articles(self, articles: Sequence[Article]) -> int:
        """Match articles just stored (the ingest has them in memory: no reload) and queue their alerts."""
        written = 0
        for start in range(0, len(articles), MATCH_BATCH):
            batch = list(articles[start : start + MATCH_BATCH])
            written += await self._queue([a.id for a in batch], batch if self._subs else [])
        return await self._announce(written, len(articles))

    async def _queue(self, ids: list[int], articles: list[Article]) -> int:
        """One outbox row per (chat, article), written in the transaction that marks the articles matched,
        together with the entities this scan found (trends, issue 17). The write turn is taken before the
        matching turn is given up (hand over hand), so writes follow the matching order while the next
        batch is already being matched. A failed write leaves its articles unmatched (caught up at start)."""
        async with self._matching:
            rows, mentions = await asyncio.to_thread(self._match_batch, articles) if articles else ([], [])
            await self._writing.acquire()
        try:
            return await self._storage.outbox.enqueue(rows, self._clock.now(), matched=ids, mentions=mentions)
        finally:
            self._writing.release()

    async def _announce(self, written: int, article_count: int) -> int:
        if written:
            log.info("%d new alert(s) queued for %d article(s)", written, article_count)
            await self._on_enqueued()
        return written

    def _match_batch(self, articles: list[Article]) -> tuple[list[NewOutboxRow], list[ArticleMentions]]:
        rows: list[NewOutboxRow] = []
        mentions: list[ArticleMentions] = []
        for article in articles:
            with self._lock:
                view = self._index.view(article_text(article), article.lang)
                rows.extend(self._rows_for(article, self._index.match_view(view)))
            mentions.append(ArticleMentions(article.id, mention_day(article.published, article.ingested_at),
                                            entity_keys(view)))
        return rows, mentions

    def _rows_for(self, article: Article, hits: dict[object, MatchResult]) -> list[NewOutboxRow]:
        """One row per chat, even when several of its subscriptions match; the first added one names it."""
        per_chat: dict[int, tuple[int, _SubRef, MatchResult]] = {}
        for sub_id, result in hits.items():
            ref = self._subs.get(sub_id)  # type: ignore[call-overload]
            if ref is None or not result.matched:
                continue
            known = per_chat.get(ref.chat_id)
            if known is None or sub_id < known[0]:  # type: ignore[operator]
                per_chat[ref.chat_id] = (sub_id, ref, result)  # type: ignore[assignment]
        return [
            NewOutboxRow(chat_id, article.id, sub_id, ref.query, result.reason())
            for chat_id, (sub_id, ref, result) in per_chat.items()
        ]
