"""Storing parsed articles, deduplicated, and handing the new ones to the matching pipeline."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

from bot.core.clock import Clock
from bot.core.ingest import ParsedItem, content_hash, iter_path, parse_document
from bot.core.models import Article, ArticleDraft, IngestOutcome, IngestReport
from bot.storage.store import Storage

log = logging.getLogger(__name__)

NewArticles = Callable[[list[Article]], Awaitable[None]]
Progress = Callable[[int], None]

BATCH = 1000


class IngestService:
    def __init__(self, storage: Storage, clock: Clock, on_new: NewArticles | None = None) -> None:
        self._storage = storage
        self._clock = clock
        self._on_new = on_new

    def set_listener(self, on_new: NewArticles) -> None:
        self._on_new = on_new

    async def ingest_items(self, items: Sequence[ParsedItem], *, alert: bool = True) -> IngestReport:
        """Store the accepted drafts (one transaction); duplicates by content hash are reported, not stored."""
        report = IngestReport()
        to_store: list[tuple[ParsedItem, str, ArticleDraft]] = []
        seen: set[str] = set()
        for item in items:
            if item.draft is None:
                report.outcomes.append(IngestOutcome(item.source, "rejected", item.reason))
                continue
            digest = content_hash(item.draft)
            if digest in seen:
                report.outcomes.append(
                    IngestOutcome(
                        item.source, "duplicate", "same content earlier in this batch", None, item.draft.title
                    )
                )
                continue
            seen.add(digest)
            to_store.append((item, digest, item.draft))
        matching = alert and self._on_new is not None
        now = self._clock.now()
        ids = await self._storage.articles.insert_many([(h, d) for _, h, d in to_store], now, to_match=matching)
        stored: list[Article] = []
        for (item, digest, draft), new_id in zip(to_store, ids, strict=True):
            if new_id is None:
                report.outcomes.append(
                    IngestOutcome(item.source, "duplicate", "already in the archive", None, draft.title)
                )
                continue
            note = f"repaired: {item.reason}" if item.status == "repaired" else ""
            report.outcomes.append(IngestOutcome(item.source, "new", note, new_id, draft.title))
            stored.append(_as_article(new_id, digest, draft, now))
        if matching and stored:
            await self._on_new(stored)  # type: ignore[misc]
        return report

    async def ingest_path(
        self, path: Path, *, alert: bool = True, progress: Progress | None = None, max_bytes: int | None = None
    ) -> IngestReport:
        """A file or folder, streamed in batches; file reading and parsing run in a worker thread."""
        report = IngestReport()
        kwargs = {"max_bytes": max_bytes} if max_bytes else {}
        stream = iter_path(path, **kwargs)
        # Parse the next batch in the worker thread while this one is stored and matched.
        upcoming = asyncio.ensure_future(asyncio.to_thread(_take, stream, BATCH))
        try:
            while batch := await upcoming:
                upcoming = asyncio.ensure_future(asyncio.to_thread(_take, stream, BATCH))
                report.extend(await self.ingest_items(batch, alert=alert))
                if progress is not None:
                    progress(len(batch))
        finally:
            if not upcoming.done():
                await asyncio.wait([upcoming])  # never leave the thread reading the generator unattended
        return report

    async def ingest_document(self, name: str, data: bytes, *, max_bytes: int, alert: bool = True) -> IngestReport:
        items = await asyncio.to_thread(parse_document, name, data, max_bytes=max_bytes)
        return await self.ingest_items(items, alert=alert)


def _take(stream: Iterator[ParsedItem], count: int) -> list[ParsedItem]:
    batch = []
    for item in stream:
        batch.append(item)
        if len(batch) >= count:
            break
    return batch


def _as_article(article_id: int, digest: str, draft: ArticleDraft, now: datetime) -> Article:
    return Article(
        id=article_id,
        content_hash=digest,
        title=draft.title,
        body=draft.body,
        lang=draft.lang,
        published=draft.published,
        source=draft.source,
        url=draft.url,
        ingested_at=now,
        guid=draft.guid,
        teaser_only=draft.teaser_only,
    )
