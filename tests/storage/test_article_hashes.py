"""Content hashes: SQLite keeps a SHA-256 digest as its 32 bytes (migration 008 converts older rows),
PostgreSQL the hex text; on both they read back, dedupe and are found exactly as they were given."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bot.core.ingest import content_hash
from bot.core.models import ArticleDraft
from bot.storage.db import load_migrations
from bot.storage.store import Storage

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DRAFT = ArticleDraft(title="Putin in Pjöngjang", body="Wladimir Putin traf Kim Jong-un in Pjöngjang.", lang="de")


async def test_a_digest_reads_back_and_dedupes_as_given(storage: Storage) -> None:
    digest = content_hash(DRAFT)
    [new] = await storage.articles.insert_many([(digest, DRAFT)], NOW)
    assert new is not None
    article = await storage.articles.get(new)
    assert article is not None and article.content_hash == digest
    assert await storage.articles.insert_many([(digest, DRAFT)], NOW) == [None]  # a duplicate
    assert await storage.articles.existing_hashes([digest, "0" * 63 + "1"]) == {digest}
    [row] = await storage.db.fetch_all("SELECT content_hash FROM articles WHERE id = ?", (new,))
    assert row[0] == (bytes.fromhex(digest) if storage.db.dialect == "sqlite" else digest)


async def test_strings_that_are_not_a_digest_stay_text(storage: Storage) -> None:
    odd = ["h-1", "A" * 64, "ab " * 21 + "a"]  # short, upper-case hex, hex with spaces: none reads back as 32 bytes
    ids = await storage.articles.insert_many([(h, DRAFT) for h in odd], NOW)
    assert None not in ids
    assert [a.content_hash for a in [await storage.articles.get(i) for i in ids if i]] == odd  # type: ignore[union-attr]
    assert await storage.articles.existing_hashes(odd) == set(odd)


async def test_migration_008_turns_stored_digests_into_bytes(tmp_path: Path) -> None:
    path = tmp_path / "v7.db"
    digest = content_hash(DRAFT)
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);"
        + "".join(m.sql for m in load_migrations("sqlite") if m.version <= 7)
        + "".join(
            f"INSERT INTO schema_migrations VALUES ({m.version}, '{m.name}', '2026-01-01T00:00:00.000000Z');"
            for m in load_migrations("sqlite")
            if m.version <= 7
        )
    )
    conn.executemany(
        "INSERT INTO articles(content_hash, title, body, lang, ingested_at)"
        " VALUES (?, ?, ?, 'de', '2026-01-01T00:00:00.000000Z')",
        [(digest, DRAFT.title, DRAFT.body), ("h1", "Alt", "Alter Text")],
    )
    conn.commit()
    conn.close()
    storage = await Storage.open(path)
    try:
        types = await storage.db.fetch_all("SELECT typeof(content_hash) FROM articles ORDER BY id")
        assert [row[0] for row in types] == ["blob", "text"]
        assert [a.content_hash for a in [await storage.articles.get(1), await storage.articles.get(2)]] == [
            digest,
            "h1",
        ]  # type: ignore[union-attr]
        assert await storage.articles.insert_many([(digest, DRAFT)], NOW) == [None]  # still a duplicate
        assert [a.title for a in await storage.articles.search("Pjöngjang")] == [DRAFT.title]  # FTS untouched
    finally:
        await storage.close()
