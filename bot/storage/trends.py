"""Entity mentions per article and day, the counts trend charts are drawn from, and the catch-up queue.

Plain SQL with ``?`` placeholders and ISO-text dates, portable to PostgreSQL; only the full-text candidate
search uses SQLite's FTS5 (as ``ArticleRepository.search`` does).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta

from bot.core.trends.series import ArticleMentions
from bot.storage.db import Database

CHUNK = 500  # ids per IN (...) list, well under every SQLite build's variable limit
# The day an article counts on: its publication date, else the (UTC) day it was stored.
_DAY = "COALESCE(a.published, substr(a.ingested_at, 1, 10))"
_IN_PERIOD = (
    "((a.published >= ? AND a.published <= ?)"
    " OR (a.published IS NULL AND a.ingested_at >= ? AND a.ingested_at < ?))"
)


def _period_args(start: date, end: date) -> tuple[str, str, str, str]:
    return start.isoformat(), end.isoformat(), start.isoformat(), (end + timedelta(days=1)).isoformat()


def _fts_expression(word_sets: Sequence[Sequence[str]]) -> str | None:
    """``(kalt* AND krieg*) OR (cold* AND war*)``: every word a quoted prefix, so no user text is syntax."""
    groups = []
    for words in word_sets:
        quoted = [f'"{w.replace(chr(34), "")}"*' for w in words if w.replace('"', "")]
        if quoted:
            groups.append("(" + " AND ".join(quoted) + ")")
    return " OR ".join(groups) if groups else None


class TrendRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, mentions: Sequence[ArticleMentions]) -> None:
        """Store what the scan found and mark the articles indexed, in one transaction; a repeat (an article
        matched again after an interruption) changes nothing."""
        if not mentions:
            return
        rows = [(key, m.day.isoformat(), m.article_id) for m in mentions for key in m.keys]
        async with self._db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO article_mentions(mention_key, day, article_id) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                rows,
            )
            await conn.executemany(
                "UPDATE articles SET mentions_indexed = 1 WHERE id = ?", [(m.article_id,) for m in mentions]
            )

    async def reindex_after(self, article_id: int) -> None:
        """Forget the mentions of articles after ``article_id`` so they are read again (after a lexicon
        change: ``reindex_after(0)``)."""
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM article_mentions WHERE article_id > ?", (article_id,))
            await conn.execute("UPDATE articles SET mentions_indexed = 0 WHERE id > ?", (article_id,))

    async def pending_ids(self, limit: int) -> list[int]:
        """Articles whose mentions were never stored, oldest first."""
        async with self._db.conn.execute(
            "SELECT id FROM articles WHERE mentions_indexed = 0 ORDER BY id LIMIT ?", (limit,)
        ) as cur:
            return [row[0] for row in await cur.fetchall()]

    async def pending_count(self) -> int:
        async with self._db.conn.execute("SELECT COUNT(*) FROM articles WHERE mentions_indexed = 0") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def naming(self, key: str, start: date, end: date) -> dict[int, str]:
        """Article id → ISO day of the articles naming ``key`` from ``start`` to ``end`` inclusive."""
        async with self._db.conn.execute(
            "SELECT article_id, day FROM article_mentions WHERE mention_key = ? AND day >= ? AND day <= ?",
            (key, start.isoformat(), end.isoformat()),
        ) as cur:
            return {row[0]: row[1] for row in await cur.fetchall()}

    async def day_counts(self, key: str, start: date, end: date) -> dict[date, int]:
        """Articles naming ``key`` per day: one index range, counted by the database."""
        async with self._db.conn.execute(
            "SELECT day, COUNT(*) FROM article_mentions WHERE mention_key = ? AND day >= ? AND day <= ?"
            " GROUP BY day",
            (key, start.isoformat(), end.isoformat()),
        ) as cur:
            return {date.fromisoformat(row[0]): row[1] for row in await cur.fetchall()}

    async def co_mentions_of_key(self, key: str, start: date, end: date) -> Counter[str]:
        """How many articles naming ``key`` in the period name each other key (one join in the database,
        no id lists through Python)."""
        async with self._db.conn.execute(
            "SELECT other.mention_key, COUNT(*) FROM article_mentions own"
            " JOIN article_mentions other ON other.article_id = own.article_id"
            " WHERE own.mention_key = ? AND own.day >= ? AND own.day <= ? AND other.mention_key <> ?"
            " GROUP BY other.mention_key",
            (key, start.isoformat(), end.isoformat(), key),
        ) as cur:
            return Counter({row[0]: row[1] for row in await cur.fetchall()})

    async def fts_candidates(self, word_sets: Sequence[Sequence[str]], start: date, end: date) -> dict[int, date]:
        """Articles of the period whose words could make a free-text term match (a superset: the matcher
        decides)."""
        expression = _fts_expression(word_sets)
        if expression is None:
            return {}
        async with self._db.conn.execute(
            f"SELECT a.id, {_DAY} FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid"
            f" WHERE articles_fts MATCH ? AND {_IN_PERIOD}",
            (expression, *_period_args(start, end)),
        ) as cur:
            rows = await cur.fetchall()
        return {row[0]: date.fromisoformat(row[1]) for row in rows}

    async def tail_candidates(self, tails: Sequence[str], start: date, end: date) -> dict[int, date]:
        """German articles of the period containing one of ``tails`` inside a word ("Gipfeltreffen" for
        "treffen"): the full-text index only knows whole words and their prefixes."""
        found: dict[int, date] = {}
        for tail in tails:
            pattern = "%" + tail.replace("%", "").replace("_", "") + "%"
            async with self._db.conn.execute(
                f"SELECT a.id, {_DAY} FROM articles a WHERE a.lang = 'de' AND {_IN_PERIOD}"
                " AND (a.title LIKE ? OR a.body LIKE ?)",
                (*_period_args(start, end), pattern, pattern),
            ) as cur:
                found.update({row[0]: date.fromisoformat(row[1]) for row in await cur.fetchall()})
        return found

    async def texts(self, article_ids: Sequence[int]) -> list[tuple[int, str, str]]:
        """(id, title + blank line + body, language) of candidates the matcher confirms: one fetch per chunk
        instead of a row-by-row cursor and full Article objects."""
        found: list[tuple[int, str, str]] = []
        ids = list(article_ids)
        for begin in range(0, len(ids), CHUNK):
            chunk = ids[begin : begin + CHUNK]
            marks = ",".join("?" * len(chunk))
            async with self._db.conn.execute(
                f"SELECT id, title, body, lang FROM articles WHERE id IN ({marks})", chunk
            ) as cur:
                found.extend((row[0], f"{row[1]}\n\n{row[2]}", row[3]) for row in await cur.fetchall())
        return found

    async def co_mentions(self, article_ids: Sequence[int]) -> Counter[str]:
        """How many of ``article_ids`` name each entity key."""
        counts: Counter[str] = Counter()
        ids = list(article_ids)
        for begin in range(0, len(ids), CHUNK):
            chunk = ids[begin : begin + CHUNK]
            marks = ",".join("?" * len(chunk))
            async with self._db.conn.execute(
                "SELECT mention_key, COUNT(*) FROM article_mentions"
                f" WHERE article_id IN ({marks}) GROUP BY mention_key",
                chunk,
            ) as cur:
                counts.update({row[0]: row[1] for row in await cur.fetchall()})
        return counts
