"""Storing parsed articles, deduplicated, and handing the new ones to the matching pipeline."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from bot.core.clock import Clock
from bot.core.ingest import ParsedItem, parse_document
from bot.core.models import Article, ArticleDraft, IngestOutcome, IngestReport
from bot.services.ingest_reader import CHILD_READER_MIN_BYTES, Hashed, hashed, open_reader
from bot.storage.store import Storage

log = logging.getLogger(__name__)

NewArticles = Callable[[list[Article]], Awaitable[None]]
Progress = Callable[[int], None]
BULK_GC_THRESHOLD = 20_000  # young objects between collections during a bulk import (Python's default: 700)
# Seconds a thread may hold the GIL while another waits for it, during a bulk import (Python's default: 5 ms).
# Every SQLite statement gives the GIL up and must win it back from the matching or the reading thread, which
# never give it up on their own: at 5 ms each the single write connection spent most of an import waiting.
# At 0.1 ms a 40,000-item RSS import took 17 % less time (4.17 → 3.46 s) and German full texts 25 % less,
# for 8 % more CPU (more switches); 1 ms and 0.5 ms gained only 2–6 %.
BULK_SWITCH_INTERVAL = 0.0001


class IngestService:
    def __init__(
        self,
        storage: Storage,
        clock: Clock,
        on_new: NewArticles | None = None,
        *,
        child_reader_min_bytes: int | None = CHILD_READER_MIN_BYTES,
    ) -> None:
        """``child_reader_min_bytes``: a JSON Lines file this large is read by a child process (None: never;
        see :mod:`bot.services.ingest_reader`)."""
        self._storage = storage
        self._clock = clock
        self._on_new = on_new
        self._child_reader_min_bytes = child_reader_min_bytes
        self._bulk_imports = 0  # ingest_path calls running: the heap is frozen while there is one
        self._thresholds = gc.get_threshold()  # the collector's settings before the first of them
        self._switch_interval = sys.getswitchinterval()  # and the interpreter's

    def set_listener(self, on_new: NewArticles) -> None:
        self._on_new = on_new

    async def ingest_items(self, items: Sequence[ParsedItem], *, alert: bool = True) -> IngestReport:
        """Store the accepted drafts (one transaction); duplicates by content hash are reported, not stored."""
        report, stored = await self._store([hashed(item) for item in items], alert=alert)
        if stored:
            await self._on_new(stored)  # type: ignore[misc]
        return report

    async def _store(self, items: Sequence[Hashed], *, alert: bool) -> tuple[IngestReport, list[Article]]:
        """One batch into the archive; returns its report and the new articles the listener must match
        (none when alerts are off or nobody listens)."""
        report = IngestReport()
        to_store: list[tuple[ParsedItem, str, ArticleDraft]] = []
        seen: set[str] = set()
        for item, digest in items:
            if item.draft is None or digest is None:
                report.outcomes.append(IngestOutcome(item.source, "rejected", item.reason))
                continue
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
            if matching:
                stored.append(_as_article(new_id, digest, draft, now))
        return report, stored

    async def ingest_path(
        self, path: Path, *, alert: bool = True, progress: Progress | None = None, max_bytes: int | None = None
    ) -> IngestReport:
        """A file or folder, streamed in batches, as a three-stage pipeline: a reader (a worker thread, or a
        child process for a large corpus) parses and hashes batch k+1 while batch k is stored and batch k-1
        is matched. SQLite (which releases the GIL) and the Python stages overlap on two cores; at most one
        batch waits in each stage, so memory stays flat, and batches are matched in order (one matching task
        at a time), so the outbox is the same."""
        async with self._storage.db.bulk_writes():
            with self._bulk_mode():
                return await self._ingest_stream(path, alert=alert, progress=progress, max_bytes=max_bytes)

    @contextmanager
    def _bulk_mode(self) -> Iterator[None]:
        """The interpreter tuned for a bulk import while one runs, as it was afterwards (even after a failure).

        A bulk import allocates objects by the hundred thousand, and the garbage collector's full
        collections walked the whole long-lived heap each time (the matching engine and its index: a fifth
        of a second each). Frozen, those objects are skipped; the young generation is collected every
        20,000 objects instead of 700 (a batch of articles is that many live objects: most collections
        found nothing to free). GC was 5 % of an import's CPU, now under 0.5 %. The switch interval is
        shortened so the database thread gets the GIL back soon after each statement
        (:data:`BULK_SWITCH_INTERVAL`). Afterwards everything is as before, so nothing stays uncollectable."""
        if self._bulk_imports == 0:
            self._thresholds = gc.get_threshold()
            self._switch_interval = sys.getswitchinterval()
            gc.freeze()
            gc.set_threshold(max(self._thresholds[0], BULK_GC_THRESHOLD), *self._thresholds[1:])
            sys.setswitchinterval(min(self._switch_interval, BULK_SWITCH_INTERVAL))
        self._bulk_imports += 1
        try:
            yield
        finally:
            self._bulk_imports -= 1
            if self._bulk_imports == 0:
                sys.setswitchinterval(self._switch_interval)
                gc.set_threshold(*self._thresholds)
                gc.unfreeze()

    async def _ingest_stream(
        self, path: Path, *, alert: bool, progress: Progress | None, max_bytes: int | None
    ) -> IngestReport:
        report = IngestReport()
        reader = await open_reader(path, max_bytes=max_bytes, child_min_bytes=self._child_reader_min_bytes)
        upcoming = asyncio.ensure_future(reader.next_batch())
        # Batches handed to the listener and not finished: the newest may be waiting for the matching thread
        # while the one before it writes its alerts (the pipeline keeps their order); never more than two.
        matching: deque[asyncio.Future[None]] = deque()
        try:
            while batch := await upcoming:
                upcoming = asyncio.ensure_future(reader.next_batch())
                batch_report, stored = await self._store(batch, alert=alert)
                report.extend(batch_report)
                if len(matching) == 2:
                    await matching.popleft()
                if stored:
                    matching.append(asyncio.ensure_future(self._on_new(stored)))  # type: ignore[misc]
                if progress is not None:
                    progress(len(batch))
            while matching:
                await matching.popleft()
        finally:
            # Never leave the reader running, or a batch being matched, unattended. Its articles stay marked
            # unmatched if this fails, and the pipeline catches them up at start. A child reader is stopped
            # first, so a batch it was still reading does not hold the failure up.
            await reader.aclose()
            pending = [task for task in (upcoming, *matching) if not task.done()]
            if pending:
                await asyncio.wait(pending)
            for task in (upcoming, *matching):  # retrieved, so asyncio does not log it: the error raised is the news
                if task.done() and not task.cancelled():
                    task.exception()
        return report

    async def ingest_document(self, name: str, data: bytes, *, max_bytes: int, alert: bool = True) -> IngestReport:
        items = await asyncio.to_thread(parse_document, name, data, max_bytes=max_bytes)
        return await self.ingest_items(items, alert=alert)


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
