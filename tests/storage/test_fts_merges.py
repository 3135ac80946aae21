"""``ArticleRepository.deferred_merges``: during a bulk import SQLite's full-text index merges its segments only
when it must; afterwards, after a failure and after a killed import it merges as before. On PostgreSQL it
changes nothing."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.models import ArticleDraft
from bot.storage.articles import FTS_AUTOMERGE
from bot.storage.store import Storage

NOW = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)


async def _automerge(storage: Storage) -> int | None:
    """FTS5's setting as stored (None: never set, FTS5's default of 4 applies)."""
    return await storage.db.fetch_val("SELECT v FROM articles_fts_config WHERE k = 'automerge'")


async def _store(storage: Storage, number: int) -> None:
    draft = ArticleDraft(title=f"Hafenstreik Tag {number}", body=f"Die Docker streiken am Tag {number}.", lang="de")
    await storage.articles.insert_many([(f"hash-{number}", draft)], NOW)


@pytest.fixture
async def sqlite_storage(tmp_path: Path) -> Storage:
    storage = await Storage.open(tmp_path / "merges.db")
    yield storage  # type: ignore[misc]
    await storage.close()


async def test_merges_wait_while_imports_run_and_resume_after_a_failed_one(sqlite_storage: Storage) -> None:
    articles = sqlite_storage.articles
    with pytest.raises(RuntimeError, match="import failed"):
        async with articles.deferred_merges():
            assert await _automerge(sqlite_storage) == 0
            async with articles.deferred_merges():  # a second import at the same time
                for number in range(30):  # a segment per transaction: merges would have run
                    await _store(sqlite_storage, number)
            assert await _automerge(sqlite_storage) == 0  # the first one still runs
            raise RuntimeError("import failed")
    assert await _automerge(sqlite_storage) == FTS_AUTOMERGE
    found = await articles.search("Hafenstreik", limit=100)  # every article stored meanwhile is searchable
    assert len(found) == 30


async def test_a_start_after_a_killed_import_merges_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    storage = await Storage.open(tmp_path / "killed.db")
    await storage.db.run_all([("INSERT INTO articles_fts(articles_fts, rank) VALUES ('automerge', 0)", ())])
    await storage.close()  # as a killed import leaves it: its block never ended
    with caplog.at_level(logging.WARNING, logger="bot.storage.articles"):
        storage = await Storage.open(tmp_path / "killed.db")
    try:
        assert await _automerge(storage) == FTS_AUTOMERGE
        assert "an import was interrupted: full-text merging is turned on again" in caplog.text
        caplog.clear()
        await storage.close()
        storage = await Storage.open(tmp_path / "killed.db")
        assert not caplog.text  # said once, when it mended something
    finally:
        await storage.close()


async def test_a_failed_restore_leaves_the_import_its_own_outcome(
    sqlite_storage: Storage, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    articles = sqlite_storage.articles
    async with articles.deferred_merges():
        await _store(sqlite_storage, 1)
        await sqlite_storage.db.conn.execute("PRAGMA query_only = ON")  # any write now fails
    await sqlite_storage.db.conn.execute("PRAGMA query_only = OFF")
    assert "full-text merging stays deferred until the next start" in caplog.text
    assert await _automerge(sqlite_storage) == 0
    await articles.restore_merges()  # what the next start does
    assert await _automerge(sqlite_storage) == FTS_AUTOMERGE


async def test_deferred_merges_keep_every_article_on_both_engines(storage: Storage) -> None:
    async with storage.articles.deferred_merges():
        await _store(storage, 7)
    assert [a.title for a in await storage.articles.search("Hafenstreik")] == ["Hafenstreik Tag 7"]
