"""The article archive and its full-text index."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime

import aiosqlite

from bot.core.models import Article, ArticleDraft
from bot.storage.db import Database, from_db_date, from_db_time, to_db_time

_COLUMNS = "id, content_hash, title, body, lang, published, source, url, ingested_at, guid, teaser_only"
_WORD = re.compile(r"\w+", re.UNICODE)


def _row_to_article(row: aiosqlite.Row) -> Article:
    return Article(
        id=row["id"],
        content_hash=row["content_hash"],
        title=row["title"],
        body=row["body"],
        lang=row["lang"],
        published=from_db_date(row["published"]),
        source=row["source"],
        url=row["url"],
        ingested_at=from_db_time(row["ingested_at"]),  # type: ignore[arg-type]
        guid=row["guid"],
        teaser_only=bool(row["teaser_only"]),
    )


def fts_query(text: str) -> str | None:
    """User text → an FTS5 query of quoted words (all must occur). Operators, quotes, ``*``, ``NEAR(``,
    column filters and ``-`` lose their meaning because every token becomes a quoted string."""
    words = _WORD.findall(text)
    if not words:
        return None
    return " ".join('"' + w.replace('"', "") + '"' for w in words[:32])


class ArticleRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert_many(
        self, items: Sequence[tuple[str, ArticleDraft]], now: datetime, *, to_match: bool = False
    ) -> list[int | None]:
        """Store ``(content_hash, draft)`` pairs in one transaction; ``None`` for a duplicate hash (already
        stored, or earlier in ``items``). ``to_match`` leaves them unmatched until the pipeline has written
        their alerts. One ``executemany`` per batch: a round trip per row cost a third of the ingest time."""
        stamp = to_db_time(now)
        async with self._db.transaction() as conn:
            known = await self._hashes_present(conn, [h for h, _ in items])
            fresh: dict[str, ArticleDraft] = {}
            for content_hash, draft in items:
                if content_hash not in known and content_hash not in fresh:
                    fresh[content_hash] = draft
            await conn.executemany(
                "INSERT INTO articles(content_hash, title, body, lang, published, source, url, guid,"
                " teaser_only, ingested_at, matched) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        h,
                        d.title,
                        d.body,
                        d.lang,
                        d.published.isoformat() if d.published else None,
                        d.source,
                        d.url,
                        d.guid,
                        int(d.teaser_only),
                        stamp,
                        int(not to_match),
                    )
                    for h, d in fresh.items()
                ],
            )
            new_ids = await self._ids_of(conn, list(fresh))
        ids: list[int | None] = []
        for content_hash, _ in items:
            ids.append(new_ids.pop(content_hash, None))  # pop: a repeat within the batch is a duplicate
        return ids

    @staticmethod
    async def _hashes_present(conn: aiosqlite.Connection, hashes: list[str]) -> set[str]:
        return set(await ArticleRepository._ids_of(conn, hashes))

    @staticmethod
    async def _ids_of(conn: aiosqlite.Connection, hashes: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            marks = ",".join("?" * len(chunk))
            async with conn.execute(
                f"SELECT content_hash, id FROM articles WHERE content_hash IN ({marks})", chunk
            ) as cur:
                found.update({row[0]: row[1] for row in await cur.fetchall()})
        return found

    async def unmatched_ids(self) -> list[int]:
        """Articles stored for alerting whose matching did not finish (a crash in between)."""
        async with self._db.conn.execute("SELECT id FROM articles WHERE matched = 0 ORDER BY id") as cur:
            return [row[0] async for row in cur]

    async def existing_hashes(self, hashes: Iterable[str]) -> set[str]:
        wanted = list(set(hashes))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            async with self._db.conn.execute(
                f"SELECT content_hash FROM articles WHERE content_hash IN ({marks})", chunk
            ) as cur:
                found.update(row[0] for row in await cur.fetchall())
        return found

    async def get(self, article_id: int) -> Article | None:
        async with self._db.conn.execute(f"SELECT {_COLUMNS} FROM articles WHERE id = ?", (article_id,)) as cur:
            row = await cur.fetchone()
        return _row_to_article(row) if row else None

    async def get_many(self, ids: Sequence[int]) -> list[Article]:
        result: list[Article] = []
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            async with self._db.conn.execute(f"SELECT {_COLUMNS} FROM articles WHERE id IN ({marks})", chunk) as cur:
                result.extend([_row_to_article(r) async for r in cur])
        order = {aid: i for i, aid in enumerate(ids)}
        result.sort(key=lambda a: order[a.id])
        return result

    async def latest(self, limit: int = 5, offset: int = 0) -> list[Article]:
        async with self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM articles ORDER BY COALESCE(published, substr(ingested_at, 1, 10)) DESC,"
            " id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        ) as cur:
            return [_row_to_article(r) async for r in cur]

    async def iter_newest(self, batch: int = 500) -> list[Article]:
        """Newest-first batches for callers that filter in Python (matching engine)."""
        return await self.latest(batch)

    async def search(self, text: str, limit: int = 10) -> list[Article]:
        """Full-text search, newest first; user text is never passed raw into ``MATCH``."""
        query = fts_query(text)
        if query is None:
            return []
        async with self._db.conn.execute(
            f"SELECT {', '.join('a.' + c for c in _COLUMNS.split(', '))} FROM articles_fts"
            " JOIN articles a ON a.id = articles_fts.rowid WHERE articles_fts MATCH ?"
            " ORDER BY COALESCE(a.published, substr(a.ingested_at, 1, 10)) DESC, a.id DESC LIMIT ?",
            (query, limit),
        ) as cur:
            return [_row_to_article(r) async for r in cur]

    async def count(self) -> int:
        async with self._db.conn.execute("SELECT COUNT(*) FROM articles") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def by_guid(self, guid: str) -> Article | None:
        async with self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM articles WHERE guid = ? ORDER BY id DESC LIMIT 1", (guid,)
        ) as cur:
            row = await cur.fetchone()
        return _row_to_article(row) if row else None
