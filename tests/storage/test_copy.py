"""``newsalert db copy`` of a seeded SQLite archive into PostgreSQL keeps every row and every search result;
``db check`` reports version and counts on both backends; a non-empty target is refused; a stopped copy
resumes."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main as cli_main
from bot.core.ingest import content_hash
from bot.core.models import ArticleDraft, ChatKey
from bot.core.trends.series import ArticleMentions
from bot.storage.copy import columns, copy_database, row_counts
from bot.storage.feeds import FeedItemState, FeedRepository, FetchedState
from bot.storage.outbox import NewOutboxRow
from bot.storage.postgres import PostgresDatabase
from bot.storage.sql import SqlDatabase, StorageError, load_migrations
from bot.storage.store import Storage
from tests.conftest import SEED_FILE, SHARED
from tests.pg import StorageBackend

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CORPORA = ("de_10kgnad_test.jsonl", "en_bbc_2005.jsonl")
PER_CORPUS = 150
QUERIES = ["Putin", "Berlin", "Regierung", "government", "und", "the", "Pjöngjang", "Österreich", "profit"]
QUERIES += ["2005", "org", "news"]  # inside "23.4.2005" and "example.org/news": punctuation separates words


SENTENCES = {
    "de": [
        "Die Regierung in Berlin berät über Putins Angebot.",
        "Österreich und die Regierungen der Nachbarn verhandeln weiter.",
        "Putin traf Kim in Wladiwostok; der Gewinn der Firma stieg 2005.",
        "Delegationen aus Pjöngjang und Wien kamen zusammen.",
        "Bericht vom 23.4.2005 auf example.org/news, Mail an presse@example.org.",
    ],
    "en": [
        "The government in London discussed the profits of the year 2005.",
        "Governments and Putin's envoys met in Berlin.",
        "Profit warnings hit the markets, the minister said.",
        "Visitors from Pjongjang and Austria (Österreich) arrived.",
    ],
}


def _synthetic_drafts() -> list[tuple[str, ArticleDraft]]:
    """A bilingual corpus with inflections, stop words and diacritics, independent of shared data."""
    drafts = []
    for n in range(80):
        lang = "de" if n % 2 else "en"
        lines = SENTENCES[lang]
        body = " ".join(lines[(n + k) % len(lines)] for k in range(1 + n % 3))
        published = date(2024, 1, 1) + timedelta(days=n) if n % 4 else None
        drafts.append((f"syn-{n}", ArticleDraft(title=f"{lang} item {n}", body=body, lang=lang, published=published)))
    return drafts


def _corpus_drafts() -> list[tuple[str, ArticleDraft]]:
    drafts = _synthetic_drafts()
    for name in CORPORA:
        if not (SHARED / "data" / name).exists():
            continue  # the shared corpora make the archive larger; the synthetic one covers every case
        with (SHARED / "data" / name).open(encoding="utf-8") as lines:
            for n, line in enumerate(itertools.islice(lines, PER_CORPUS)):
                record = json.loads(line)
                published = date(2020, 1, 1) + timedelta(days=n) if n % 3 else None
                draft = ArticleDraft(
                    title=record["title"] or f"untitled {n}",
                    body=record["text"],
                    lang=record.get("lang") or ("de" if name.startswith("de") else "en"),
                    published=published,
                    source=record.get("source"),
                    url=record.get("url"),
                    guid=record.get("id"),
                    teaser_only=n % 7 == 0,
                )
                drafts.append((f"{name}-{n}", draft))
    seed = SEED_FILE.read_text(encoding="utf-8")
    drafts.append(("seed", ArticleDraft(title="Seed", body=seed, lang="de")))
    drafts.append(("pj", ArticleDraft(title="Treffen in Pjöngjang", body="Delegation aus Pjöngjang.", lang="de")))
    digested = ArticleDraft(title="Gipfel in Wladiwostok", body="Putin und Kim trafen sich in Wladiwostok.", lang="de")
    drafts.append((content_hash(digested), digested))  # SQLite keeps it as 32 bytes, PostgreSQL as hex text
    return drafts


async def _seed_every_table(storage: Storage) -> None:
    ids = [i for i in await storage.articles.insert_many(_corpus_drafts(), NOW) if i is not None]
    for n in range(12):
        chat, _ = await storage.chats.get_or_create(ChatKey("telegram", f"-{n}"), NOW, lang="de", is_group=n % 2 == 0)
        sub = await storage.subscriptions.add(chat.id, f"Query {n}", f"query {n}", NOW)
        assert sub is not None
        await storage.outbox.enqueue([NewOutboxRow(chat.id, a, sub.id, sub.query, "why") for a in ids[:20]], NOW)
    [first, *_] = await storage.outbox.waiting_for_chat(1, NOW)
    await storage.outbox.mark_sent([first.id], NOW)
    feeds = FeedRepository(storage.db)
    feed = await feeds.add("https://example.org/feed", poll_seconds=600, now=NOW, added_by="admin")
    state = FetchedState("Feed", '"etag"', None, 600, NOW + timedelta(minutes=10))
    items = [FeedItemState(f"g{n}", f"fp{n}", ids[n], f"T{n}", f"B{n}") for n in range(5)]
    await feeds.record_fetch(feed.id, now=NOW, state=state, items=items, listed=[], forget_before=NOW)
    await storage.kv.set("telegram.offset", "42")
    await storage.summaries.put(ids[0], "", ["• eins", "• zwei"], NOW)
    await storage.claims.claim_chats("old-instance", NOW, limit=2)
    await storage.pacing.reserve("telegram", rate=30.0, burst=30, now=1000.5)
    await storage.channels.add_manager(chat.id, "7", "de", NOW)  # the last chat, as a channel
    await storage.trends.record([ArticleMentions(ids[0], NOW.date(), ("entity:putin", "entity:kim_jong_un"))])


async def _all_rows(db: SqlDatabase, table: str, names: list[str]) -> list[tuple[object, ...]]:
    rows = await db.fetch_all(f'SELECT {", ".join(names)} FROM "{table}"')
    # a content hash SQLite stores as bytes is the same hash as PostgreSQL's hex text
    readable = [tuple(v.hex() if isinstance(v, bytes) else v for v in r) for r in rows]
    return sorted(readable, key=repr)


@pytest.fixture
async def seeded_sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "old" / "news.db"
    storage = await Storage.open(path)
    try:
        await _seed_every_table(storage)
    finally:
        await storage.close()
    return path


async def test_copy_preserves_every_row_and_search_result(seeded_sqlite: Path, pg_database_url: str) -> None:
    code = await asyncio.to_thread(cli_main, ["db", "copy", "--from", str(seeded_sqlite), "--to", pg_database_url])
    assert code == 0
    source = await Storage.open(seeded_sqlite)
    target = await Storage.open("unused.db", url=pg_database_url)
    try:
        counts = await row_counts(source.db)
        assert counts == await row_counts(target.db) and all(counts.values()), counts
        for table in counts:
            names = await columns(source.db, table)
            assert await _all_rows(source.db, table, names) == await _all_rows(target.db, table, names), table
        for query in QUERIES:
            before = [a.id for a in await source.articles.search(query, limit=1000)]
            after = [a.id for a in await target.articles.search(query, limit=1000)]
            # PostgreSQL also finds German/English inflections; everything SQLite found is there, in order.
            assert before and set(before) <= set(after), query
            assert [i for i in after if i in set(before)] == before, query
        # The copied ids do not collide with new rows: the identities continue after them.
        [new_id] = await target.articles.insert_many([("brand-new", ArticleDraft("Neu", "Neuer Text", "de"))], NOW)
        assert new_id == max(await _ids(target.db, "articles")) and new_id > counts["articles"] - 1
        chat, created = await target.chats.get_or_create(ChatKey("matrix", "!new"), NOW)
        assert created and chat.id > 12
    finally:
        await source.close()
        await target.close()


async def _ids(db: SqlDatabase, table: str) -> list[int]:
    return [int(r[0]) for r in await db.fetch_all(f"SELECT id FROM {table}")]


async def test_copy_refuses_a_target_that_is_not_empty(
    seeded_sqlite: Path, pg_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = await Storage.open("unused.db", url=pg_database_url)
    try:
        await target.kv.set("someone", "else")
        code = await asyncio.to_thread(cli_main, ["db", "copy", "--from", str(seeded_sqlite), "--to", pg_database_url])
        assert code == 2
        assert "not empty: kv (1 rows)" in capsys.readouterr().err
        assert await row_counts(target.db) == {t: (1 if t == "kv" else 0) for t in await target.db.tables()}
    finally:
        await target.close()


async def test_a_stopped_copy_resumes_without_doubling_rows(seeded_sqlite: Path, pg_database_url: str) -> None:
    source = await Storage.open(seeded_sqlite)
    target = await PostgresDatabase.open(pg_database_url)

    def stop_in_outbox(table: str, done: int, total: int) -> None:
        if table == "outbox":
            raise StorageError("connection lost")  # as if the network went away in the middle

    try:
        with pytest.raises(StorageError):
            await copy_database(source.db, target, progress=stop_in_outbox)
        partial = await row_counts(target)
        assert partial["articles"] and partial["subscriptions"] and partial["outbox"] == 0
        with pytest.raises(StorageError, match="not empty"):
            await copy_database(source.db, target)
        report = await copy_database(source.db, target, resume=True)
        assert report.matches and {"articles", "chats", "subscriptions"} <= set(report.skipped)
        assert await row_counts(target) == await row_counts(source.db)
    finally:
        await source.close()
        await target.close()


async def test_db_check_reports_version_and_counts(
    storage_backend: StorageBackend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = await storage_backend.open()
    await storage.kv.set("k", "v")
    await storage.close()
    monkeypatch.setenv("NEWSALERT_DB_PATH", str(storage_backend.path))
    if storage_backend.url:
        monkeypatch.setenv("NEWSALERT_DATABASE_URL", storage_backend.url)
    assert await asyncio.to_thread(cli_main, ["db", "check"]) == 0
    out = capsys.readouterr().out
    latest = len(load_migrations())
    assert f"schema version: {latest} of {latest}" in out
    assert "kv                        1" in out and "articles                  0" in out
    assert ("PostgreSQL" in out) == (storage_backend.name == "postgres")


async def test_copy_refuses_bad_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert await asyncio.to_thread(cli_main, ["db", "copy", "--from", str(tmp_path / "no.db"), "--to", "x"]) == 2
    assert "no SQLite database" in capsys.readouterr().err
    (tmp_path / "a.db").write_bytes(b"")
    assert await asyncio.to_thread(cli_main, ["db", "copy", "--from", str(tmp_path / "a.db"), "--to", "mysql://x"]) == 2
    assert "postgresql://" in capsys.readouterr().err
