"""Storage against a real temporary SQLite and a real throw-away PostgreSQL (the ``storage`` fixture runs each
test on both): migrations, round trips, FTS safety, atomic writes."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.models import ArticleDraft, ChatKey, Mode, OutboxStatus
from bot.core.trends.series import ArticleMentions
from bot.storage.db import CACHE_KIB, WAL_CHECKPOINT_PAGES, Database, Migration, StorageError, load_migrations
from bot.storage.outbox import NewOutboxRow
from bot.storage.store import Storage
from tests.pg import StorageBackend

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def draft(title: str, body: str = "Body text about Putin and Kim in Wladiwostok.", **kw) -> ArticleDraft:
    return ArticleDraft(title=title, body=body, lang=kw.pop("lang", "de"), **kw)


async def test_fresh_database_has_every_migration(storage: Storage) -> None:
    assert await storage.db.schema_version() == max(m.version for m in load_migrations(storage.db.dialect))
    assert await storage.db.migrate() == []


async def test_sqlite_database_is_in_wal_mode(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "news.db")
    try:
        async with storage.db.conn.execute("PRAGMA journal_mode") as cur:  # type: ignore[attr-defined]
            assert (await cur.fetchone())[0] == "wal"
        async with storage.db.conn.execute("PRAGMA wal_autocheckpoint") as cur:  # type: ignore[attr-defined]
            assert (await cur.fetchone())[0] == WAL_CHECKPOINT_PAGES
        async with storage.db.conn.execute("PRAGMA cache_size") as cur:  # type: ignore[attr-defined]
            assert (await cur.fetchone())[0] == -CACHE_KIB  # negative: KiB, not pages
    finally:
        await storage.close()


async def test_no_index_on_article_guids(storage: Storage) -> None:
    # Nothing looks articles up by guid (feed items have their own table); the index only slowed every insert.
    sql = {
        "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'articles'",
        "postgres": "SELECT indexname FROM pg_indexes WHERE tablename = 'articles'",
    }[storage.db.dialect]
    indexes = {row[0] for row in await storage.db.fetch_all(sql)}
    assert "articles_guid" not in indexes
    assert {"articles_published", "articles_unmatched"} <= indexes  # the query reads the right catalog


def test_both_dialects_ship_the_same_migration_numbers() -> None:
    # A version number means the same schema on both engines: ``db copy`` relies on it.
    assert [m.name for m in load_migrations("sqlite")] == [m.name for m in load_migrations("postgres")]


async def test_migrations_apply_to_an_existing_database(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    # A database from the first release: only migration 001 applied, with data in it.
    first = load_migrations()[0]
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);"
        + first.sql
        + f"INSERT INTO schema_migrations VALUES (1, '{first.name}', '2026-01-01T00:00:00.000000Z');"
        + "INSERT INTO articles(content_hash, title, body, lang, ingested_at)"
        " VALUES ('h1', 'Alt', 'Alter Text', 'de', '2026-01-01T00:00:00.000000Z');"
    )
    conn.commit()
    conn.close()
    store = await Storage.open(path)
    try:
        assert await store.db.schema_version() == max(m.version for m in load_migrations())
        assert await store.articles.count() == 1
        assert [a.title for a in await store.articles.search("Alter")] == ["Alt"]
        # Re-opening applies nothing twice.
        assert await store.db.migrate() == []
    finally:
        await store.close()


async def test_new_ids_belong_to_their_own_articles_in_a_mixed_batch(storage: Storage) -> None:
    """Stored, repeated and new hashes in one batch of more than one statement: each new id is the row of
    its own hash (SQLite reads them back by id range, PostgreSQL by RETURNING)."""
    [old] = await storage.articles.insert_many([("h-17", draft("Alt 17"))], NOW)
    batch = [(f"h-{n}", draft(f"Titel {n}")) for n in range(700)] + [("h-3", draft("Titel 3"))]
    ids = await storage.articles.insert_many(batch, NOW)
    assert ids[17] is None and ids[-1] is None  # stored before; repeated within the batch
    assert len({i for i in ids if i is not None}) == 699 and old not in ids
    for (_, d), new_id in zip(batch, ids, strict=True):
        if new_id is not None:
            article = await storage.articles.get(new_id)
            assert article is not None and article.title == d.title


async def test_exhausted_article_ids_fail_the_batch_and_store_nothing(tmp_path: Path) -> None:
    """SQLite gives random rowids once the largest is taken; the ids read back by range would then be wrong,
    so the insert refuses and rolls back instead of reporting stored articles as duplicates."""
    store = await Storage.open(tmp_path / "full.db")
    try:
        [first] = await store.articles.insert_many([("h-first", draft("Erster"))], NOW)
        async with store.db.transaction() as tx:
            await tx.run("UPDATE articles SET id = ? WHERE id = ?", (2**63 - 1, first))
        with pytest.raises(StorageError, match="article ids are exhausted"):
            await store.articles.insert_many([("h-a", draft("A")), ("h-b", draft("B"))], NOW)
        assert await store.articles.count() == 1
    finally:
        await store.close()


async def test_article_round_trip_and_duplicate_hash(storage: Storage) -> None:
    d = draft("Kim reist", published=date(2023, 9, 5), source="t-online", url="https://example.org/a")
    ids = await storage.articles.insert_many([("hash-a", d), ("hash-a", d), ("hash-b", draft("Zweiter"))], NOW)
    assert ids[0] is not None and ids[1] is None and ids[2] is not None
    article = await storage.articles.get(ids[0])
    assert article is not None
    assert (article.title, article.published, article.source, article.url) == (
        "Kim reist",
        date(2023, 9, 5),
        "t-online",
        "https://example.org/a",
    )
    assert article.ingested_at == NOW
    assert await storage.articles.existing_hashes(["hash-a", "nope"]) == {"hash-a"}


async def test_fts_is_diacritics_insensitive(storage: Storage) -> None:
    await storage.articles.insert_many([("h", draft("Treffen in Pjöngjang", "Delegation aus Pjöngjang."))], NOW)
    assert len(await storage.articles.search("Pjongjang")) == 1
    assert len(await storage.articles.search("PJÖNGJANG")) == 1


@pytest.mark.parametrize(
    "hostile",
    [
        '"',
        "Putin*",
        "NEAR(Putin Kim)",
        "title:Putin",
        "-Putin",
        "Putin OR",
        "AND",
        "(",
        "'; DROP TABLE articles;--",
        "^Putin",
        "Putin + Kim",
        "{title body}: x",
        "",
    ],
)
async def test_search_never_passes_user_syntax_to_fts(storage: Storage, hostile: str) -> None:
    await storage.articles.insert_many([("h", draft("Putin und Kim", "Putin traf Kim."))], NOW)
    result = await storage.articles.search(hostile)  # must not raise
    assert isinstance(result, list)
    assert await storage.articles.count() == 1


async def test_search_words_keep_their_meaning(storage: Storage) -> None:
    await storage.articles.insert_many(
        [("a", draft("Putin allein", "Nur Putin.")), ("b", draft("Beide", "Putin und Kim."))], NOW
    )
    # "-Kim" is a word here, not an exclusion: both words must occur.
    assert [a.title for a in await storage.articles.search("Putin -Kim")] == ["Beide"]


async def test_chat_settings_round_trip_and_move(storage: Storage) -> None:
    chat, created = await storage.chats.get_or_create(ChatKey("telegram", "-1"), NOW, lang="de", is_group=True)
    assert created and chat.lang == "de" and chat.mode is Mode.INSTANT and chat.timezone == "UTC"
    chat = await storage.chats.update(chat.id, mode=Mode.DAILY, digest_time="07:30", timezone="Europe/Berlin")
    assert (chat.mode, chat.digest_time, chat.timezone) == (Mode.DAILY, "07:30", "Europe/Berlin")
    sub = await storage.subscriptions.add(chat.id, "Putin", "putin", NOW)
    assert sub is not None
    result = await storage.chats.move(ChatKey("telegram", "-1"), "-1001")
    assert result is not None
    moved, merged_from = result
    assert moved.id == chat.id and moved.chat_id == "-1001" and merged_from is None
    assert [s.query for s in await storage.subscriptions.for_chat(chat.id)] == ["Putin"]
    with pytest.raises(ValueError):
        await storage.chats.update(chat.id, active=False)


async def test_subscription_uniqueness_per_chat(storage: Storage) -> None:
    chat, _ = await storage.chats.get_or_create(ChatKey("console", "local"), NOW)
    assert await storage.subscriptions.add(chat.id, "Putin", "putin", NOW) is not None
    assert await storage.subscriptions.add(chat.id, "putin", "putin", NOW) is None
    assert await storage.subscriptions.count_for_chat(chat.id) == 1


async def test_outbox_once_per_chat_article_and_lifecycle(storage: Storage) -> None:
    chat, _ = await storage.chats.get_or_create(ChatKey("console", "local"), NOW)
    [aid] = await storage.articles.insert_many([("h", draft("A"))], NOW)
    row = NewOutboxRow(chat.id, aid, None, "Putin", "Putin (Putins)")
    assert await storage.outbox.enqueue([row, row], NOW) == 1
    assert await storage.outbox.enqueue([row], NOW) == 0
    [item] = await storage.outbox.waiting_for_chat(chat.id, NOW)
    await storage.outbox.mark_sending([item.id], "b1")
    assert await storage.outbox.in_flight_batches(chat.id) == {"b1": [item.id]}
    await storage.outbox.mark_failed([item.id], "boom", NOW + timedelta(seconds=30))
    assert await storage.outbox.chats_with_due(NOW) == []
    assert await storage.outbox.next_retry_at(NOW) == NOW + timedelta(seconds=30)
    assert await storage.outbox.chats_with_due(NOW + timedelta(seconds=31)) == [chat.id]
    await storage.outbox.mark_sent([item.id], NOW)
    assert await storage.outbox.status_counts() == {OutboxStatus.SENT.value: 1}


async def test_failed_transaction_leaves_no_partial_rows(storage: Storage) -> None:
    with pytest.raises((sqlite3.IntegrityError, StorageError)):
        async with storage.db.transaction() as tx:
            await tx.run(
                "INSERT INTO articles(content_hash, title, body, lang, ingested_at) VALUES ('x','t','b','de','now')"
            )
            await tx.run(
                "INSERT INTO articles(content_hash, title, body, lang, ingested_at) VALUES ('x','t','b','de','now')"
            )
    assert await storage.articles.count() == 0


async def test_read_only_database_gives_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "news.db").write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StorageError, match=r"news\.db"):
        await Database.open(folder / "news.db")


async def test_kv_round_trip(storage: Storage) -> None:
    assert await storage.kv.get("matrix.next_batch") is None
    await storage.kv.set("matrix.next_batch", "s1")
    await storage.kv.set("matrix.next_batch", "s2")
    assert await storage.kv.get("matrix.next_batch") == "s2"


async def test_instances_starting_together_apply_each_postgres_migration_once(pg_database_url: str) -> None:
    opened = await asyncio.gather(*(Storage.open("unused.db", url=pg_database_url) for _ in range(3)))
    try:
        rows = await opened[0].db.fetch_all("SELECT version FROM schema_migrations ORDER BY version")
        assert [r[0] for r in rows] == [m.version for m in load_migrations("postgres")]
    finally:
        for storage in opened:
            await storage.close()


async def test_a_failing_migration_changes_nothing(
    storage_backend: StorageBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = await storage_backend.open()
    before = await storage.db.schema_version()
    dialect = storage.db.dialect
    await storage.close()
    broken = Migration(before + 1, f"{before + 1:03d}_broken.sql", "CREATE TABLE half (x INTEGER);\nNOT SQL AT ALL;")
    shipped = load_migrations(dialect)
    module = "bot.storage.postgres" if dialect == "postgres" else "bot.storage.db"
    monkeypatch.setattr(f"{module}.load_migrations", lambda _dialect="": [*shipped, broken])
    with pytest.raises(StorageError, match="broken"):
        await storage_backend.open()
    monkeypatch.undo()
    storage = await storage_backend.open()
    assert await storage.db.schema_version() == before
    assert "half" not in await storage.db.tables()


async def test_enqueue_stores_alerts_mentions_and_flags_together_or_not_at_all(storage: Storage) -> None:
    active, _ = await storage.chats.get_or_create(ChatKey("console", "a"), NOW)
    gone, _ = await storage.chats.get_or_create(ChatKey("console", "b"), NOW)
    await storage.chats.set_active(gone.id, False)
    ids = [i for i in await storage.articles.insert_many([(f"h{n}", draft(f"A{n}")) for n in range(700)], NOW,
                                                         to_match=True) if i is not None]  # fmt: skip
    # 702 rows: a 500-row statement, then the rest padded to 256 (its last row repeated), in the order given;
    # an inactive chat gets nothing, a repeated (chat, article) keeps its first row.
    rows = [NewOutboxRow(active.id, aid, None, "Putin", f"why {aid}") for aid in reversed(ids)]
    rows += [NewOutboxRow(active.id, ids[0], None, "Kim", "repeat"), NewOutboxRow(gone.id, ids[0], None, "q", "r")]
    mentions = [ArticleMentions(aid, date(2026, 2, 28), ("entity:putin",)) for aid in ids]
    assert await storage.outbox.enqueue(rows, NOW, matched=ids, mentions=mentions) == 700
    waiting = await storage.outbox.waiting_for_chat(active.id, NOW)
    assert [item.article_id for item in waiting] == list(reversed(ids))  # row ids keep the given order
    assert waiting[-1].reason == f"why {ids[0]}"
    assert await storage.articles.unmatched_ids() == [] and await storage.trends.pending_count() == 0
    assert len(await storage.trends.naming("entity:putin", date(2026, 2, 28), date(2026, 2, 28))) == 700

    # An alert for an article that does not exist fails the transaction: no mention, no flag stays.
    [late] = await storage.articles.insert_many([("late", draft("Spät"))], NOW, to_match=True)
    with pytest.raises(Exception):  # noqa: B017  # the engines' own integrity errors
        await storage.outbox.enqueue(
            [NewOutboxRow(active.id, late + 1000, None, "Putin", "Putin")], NOW, matched=[late],
            mentions=[ArticleMentions(late, date(2026, 3, 1), ("entity:kim_jong_un",))],
        )  # fmt: skip
    assert await storage.articles.unmatched_ids() == [late]
    assert await storage.trends.pending_ids(10) == [late]
    assert await storage.trends.naming("entity:kim_jong_un", date(2026, 3, 1), date(2026, 3, 1)) == {}
