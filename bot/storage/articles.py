"""The article archive and its full-text index."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from datetime import datetime
from functools import lru_cache, partial
from typing import TYPE_CHECKING, cast

from bot.core.models import Article, ArticleDraft
from bot.storage.batches import flat, padded_chunks, values_list
from bot.storage.sql import (
    Row,
    SqlDatabase,
    Statement,
    StorageError,
    from_db_date,
    from_db_time,
    marks,
    to_db_time,
)

if TYPE_CHECKING:
    import sqlite3

    from bot.storage.db import SqliteDatabase

_COLUMNS = "id, content_hash, title, body, lang, published, source, url, ingested_at, guid, teaser_only"
_WORD = re.compile(r"\w+", re.UNICODE)


_INSERT_COLUMNS = "content_hash, title, body, lang, published, source, url, guid, teaser_only, ingested_at, matched"
_InsertRow = tuple[bytes | str, str, str, str, str | None, str | None, str | None, str | None, int, str, int]


def _sqlite_hash(content_hash: str) -> bytes | str:
    """SQLite keeps a SHA-256 hex digest as its 32 bytes: half the key of the unique index that every new
    article enters at a random place. That index wrote more pages than anything else in a large import
    (0.9 of 1.9 GB); as bytes the whole RSS corpus took 7.84-8.03 s against 7.85-8.58 s (three pairs) and
    wrote 0.3 GB less. Any other string (tests use short ones) is kept as it is; both read back as given."""
    if len(content_hash) == 64:
        with suppress(ValueError):
            digest = bytes.fromhex(content_hash)
            if digest.hex() == content_hash:  # lower-case and nothing skipped: it reads back the same
                return digest
    return content_hash


def _hash_text(stored: bytes | str) -> str:
    return stored.hex() if isinstance(stored, bytes) else stored


# How each engine stores a content hash (PostgreSQL: the hex text, as always).
_STORED_HASH: dict[str, Callable[[str], bytes | str]] = {"sqlite": _sqlite_hash, "postgres": str}
# The stored hash read back as given, in SQL (SQLite's JSON of new ids, ``db copy``).
SQLITE_HASH_TEXT = "CASE WHEN typeof(content_hash) = 'blob' THEN lower(hex(content_hash)) ELSE content_hash END"


def _insert_row(content_hash: bytes | str, draft: ArticleDraft, stamp: str, to_match: bool) -> _InsertRow:
    published = draft.published.isoformat() if draft.published else None
    return (
        content_hash, draft.title, draft.body, draft.lang, published, draft.source, draft.url, draft.guid,
        int(draft.teaser_only), stamp, int(not to_match),
    )


@lru_cache(maxsize=32)
def _insert_sql(rows: int, returning: bool) -> str:
    """The insert of ``rows`` articles (one of the 10 sizes :func:`~bot.storage.batches.padded_size` gives)."""
    return (
        f"INSERT INTO articles({_INSERT_COLUMNS}) VALUES {values_list(11, rows)}"
        " ON CONFLICT(content_hash) DO NOTHING" + (" RETURNING content_hash, id" if returning else "")
    )


async def _insert_postgres(db: SqlDatabase, rows: list[_InsertRow]) -> dict[str, int]:
    """PostgreSQL: the ids of the new rows come back with the insert (asyncpg reads them in one go)."""
    new_ids: dict[str, int] = {}
    async with db.transaction() as tx:
        for chunk in padded_chunks(rows):
            returned = await tx.fetch_all(_insert_sql(len(chunk), True), flat(chunk))
            new_ids.update({row[0]: row[1] for row in returned})
    return new_ids


async def _insert_sqlite(db: SqlDatabase, rows: list[_InsertRow]) -> dict[str, int]:
    """SQLite: the whole transaction as one trip to the database thread (see
    :meth:`~bot.storage.db.SqliteDatabase.in_one_trip`)."""
    return await cast("SqliteDatabase", db).in_one_trip(partial(_insert_rows_sqlite, rows))


def _insert_rows_sqlite(rows: list[_InsertRow], conn: sqlite3.Connection) -> dict[str, int]:
    """The insert without ``RETURNING``, then the new rows' ids as one JSON value. Python's sqlite3 releases
    the GIL for every row a statement returns; while the matching thread runs, each row then waits for the
    interpreter's switch interval (5 ms). A 20,000-article insert took 74 s beside a busy thread instead of
    1.2 s; without ``RETURNING`` 1.6 s. The write transaction is the only writer, and a new rowid is the
    largest one plus one, so the new rows are exactly those above the largest id before."""
    before = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM articles").fetchone()[0])
    inserted = sum(conn.execute(_insert_sql(len(chunk), False), flat(chunk)).rowcount for chunk in padded_chunks(rows))
    found = conn.execute(
        f"SELECT json_group_array(json_array({SQLITE_HASH_TEXT}, id)) FROM articles WHERE id > ?", (before,)
    ).fetchone()[0]
    new_ids = {content_hash: article_id for content_hash, article_id in json.loads(found)}
    if len(new_ids) != inserted:  # SQLite picks random rowids only once the largest possible one is taken
        raise StorageError(f"article ids are exhausted: {inserted} stored, {len(new_ids)} found above {before}")
    return new_ids


_INSERT = {"sqlite": _insert_sqlite, "postgres": _insert_postgres}  # the new ids by content hash, committed


def processed_statements(matched: Sequence[int], indexed: Sequence[int]) -> list[Statement]:
    """The ``matched`` articles have their alerts queued, the ``indexed`` ones their mentions stored. The
    pipeline passes the same ids for both: then one ``UPDATE … WHERE id IN (…)`` per chunk sets both flags
    (one statement, and each row rewritten once instead of twice)."""
    if list(matched) == list(indexed):
        return _flag_statements("matched = 1, mentions_indexed = 1", matched)
    return _flag_statements("matched = 1", matched) + _flag_statements("mentions_indexed = 1", indexed)


def _flag_statements(assignments: str, ids: Sequence[int]) -> list[Statement]:
    return [
        (f"UPDATE articles SET {assignments} WHERE id IN ({marks(len(chunk))})", chunk)
        for chunk in padded_chunks(list(ids))
    ]


def _row_to_article(row: Row) -> Article:
    return Article(
        id=row["id"],
        content_hash=_hash_text(row["content_hash"]),
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


def query_words(text: str) -> list[str]:
    """The words of user text that a search must all find (at most 32); nothing else of it is used."""
    return [w for w in _WORD.findall(text)][:32]


def fts_query(text: str) -> str | None:
    """User text → an FTS5 query of quoted words (all must occur). Operators, quotes, ``*``, ``NEAR(``,
    column filters and ``-`` lose their meaning because every token becomes a quoted string."""
    words = query_words(text)
    if not words:
        return None
    return " ".join('"' + w.replace('"', "") + '"' for w in words)


def _search_sql(dialect: str, words: list[str]) -> tuple[str, list[object]]:
    """The one dialect difference of the archive: FTS5 ``MATCH`` on SQLite, ``tsvector @@ tsquery`` on
    PostgreSQL. Either way every word is a parameter, never SQL or query syntax, and all words must occur."""
    columns = ", ".join("a." + c for c in _COLUMNS.split(", "))
    newest = " ORDER BY COALESCE(a.published, substr(a.ingested_at, 1, 10)) DESC, a.id DESC LIMIT ?"
    if dialect == "sqlite":
        sql = (
            f"SELECT {columns} FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid"
            " WHERE articles_fts MATCH ?" + newest
        )
        return sql, [" ".join(f'"{w}"' for w in words)]
    # Per word: its plain (unaccented) form, or its German or English stem; a word split by the parser
    # ("foo_bar") stays a phrase, as a quoted FTS5 string does.
    per_word = (
        "(phraseto_tsquery('newsalert_simple', ?) || phraseto_tsquery('newsalert_german', ?)"
        " || phraseto_tsquery('newsalert_english', ?))"
    )
    condition = " && ".join([per_word] * len(words))
    sql = f"SELECT {columns} FROM articles a WHERE a.search @@ ({condition})" + newest
    return sql, [w for w in words for _ in range(3)]


class ArticleRepository:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def insert_many(
        self, items: Sequence[tuple[str, ArticleDraft]], now: datetime, *, to_match: bool = False
    ) -> list[int | None]:
        """Store ``(content_hash, draft)`` pairs in one transaction; ``None`` for a duplicate hash (already
        stored, or earlier in ``items``). ``to_match`` leaves them unmatched until the pipeline has written
        their alerts. Multi-row ``INSERT … ON CONFLICT DO NOTHING``: the unique index that refuses a stored
        hash decides which rows are new, with no lookup of the hashes before or after (those two cost a sixth
        of the database's time in a bulk import); the new ids come back by ``RETURNING`` on PostgreSQL and
        in one value on SQLite (see :func:`_insert_sqlite`). ``DO NOTHING``: another instance may store the
        same article at the same moment."""
        fresh: dict[str, ArticleDraft] = {}
        for content_hash, draft in items:
            fresh.setdefault(content_hash, draft)
        stamp = to_db_time(now)  # once: strftime per row was a tenth of this method's event-loop time
        stored = _STORED_HASH[self._db.dialect]
        rows = [_insert_row(stored(h), d, stamp, to_match) for h, d in fresh.items()]
        new_ids = await _INSERT[self._db.dialect](self._db, rows)
        ids: list[int | None] = []
        for content_hash, _ in items:
            ids.append(new_ids.pop(content_hash, None))  # pop: a repeat within the batch is a duplicate
        return ids

    async def unmatched_ids(self) -> list[int]:
        """Articles stored for alerting whose matching did not finish (a crash in between)."""
        return [row[0] for row in await self._db.fetch_all("SELECT id FROM articles WHERE matched = 0 ORDER BY id")]

    async def existing_hashes(self, hashes: Iterable[str]) -> set[str]:
        wanted = list(set(hashes))
        stored = _STORED_HASH[self._db.dialect]
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = [stored(h) for h in wanted[start : start + 500]]
            rows = await self._db.fetch_all(
                f"SELECT content_hash FROM articles WHERE content_hash IN ({marks(len(chunk))})", chunk
            )
            found.update(_hash_text(row[0]) for row in rows)
        return found

    async def get(self, article_id: int) -> Article | None:
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} FROM articles WHERE id = ?", (article_id,))
        return _row_to_article(row) if row else None

    async def get_many(self, ids: Sequence[int]) -> list[Article]:
        result: list[Article] = []
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            rows = await self._db.fetch_all(f"SELECT {_COLUMNS} FROM articles WHERE id IN ({marks(len(chunk))})", chunk)
            result.extend(_row_to_article(r) for r in rows)
        order = {aid: i for i, aid in enumerate(ids)}
        result.sort(key=lambda a: order[a.id])
        return result

    async def latest(self, limit: int = 5, offset: int = 0) -> list[Article]:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM articles ORDER BY COALESCE(published, substr(ingested_at, 1, 10)) DESC,"
            " id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [_row_to_article(r) for r in rows]

    async def iter_newest(self, batch: int = 500) -> list[Article]:
        """Newest-first batches for callers that filter in Python (matching engine)."""
        return await self.latest(batch)

    async def search(self, text: str, limit: int = 10) -> list[Article]:
        """Full-text search, newest first; user text is never passed raw into the engine's query syntax."""
        words = query_words(text)
        if not words:
            return []
        sql, params = _search_sql(self._db.dialect, words)
        return [_row_to_article(r) for r in await self._db.fetch_all(sql, (*params, limit))]

    async def count(self) -> int:
        return int(await self._db.fetch_val("SELECT COUNT(*) FROM articles") or 0)
