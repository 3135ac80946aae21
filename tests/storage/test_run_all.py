"""``SqlDatabase.run_all`` (a write transaction whose statements are known beforehand) on both engines, and
SQLite's one trip to the database thread per batch of an import."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.models import ArticleDraft, ChatKey
from bot.core.trends.series import ArticleMentions
from bot.storage.db import StorageError
from bot.storage.outbox import NewOutboxRow
from bot.storage.store import Storage

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
UPSERT = "INSERT INTO kv(key, value) VALUES (?, ?), (?, ?) ON CONFLICT(key) DO NOTHING"


async def test_run_all_runs_every_statement_in_order_and_counts_what_each_changed(storage: Storage) -> None:
    changed = await storage.db.run_all(
        [
            (UPSERT, ("a", "1", "b", "2")),
            (UPSERT, ("b", "3", "c", "4")),  # "b" is kept: one new row
            ("UPDATE kv SET value = value || '!' WHERE key IN (?, ?)", ("a", "c")),
            ("DELETE FROM kv WHERE key = ?", ("nobody",)),
        ]
    )
    assert changed == [2, 1, 2, 0]
    assert [await storage.kv.get(key) for key in "abc"] == ["1!", "2", "4!"]
    assert await storage.db.run_all([]) == []


async def test_run_all_is_all_or_nothing(storage: Storage) -> None:
    await storage.kv.set("kept", "before")
    with pytest.raises((sqlite3.IntegrityError, StorageError)):
        await storage.db.run_all(
            [
                ("UPDATE kv SET value = ? WHERE key = ?", ("after", "kept")),
                (UPSERT, ("new", "1", "other", "2")),
                ("INSERT INTO kv(key, value) VALUES (?, ?)", ("kept", "twice")),  # the key exists
            ]
        )
    assert await storage.kv.get("kept") == "before"
    assert await storage.kv.get("new") is None
    await storage.kv.set("next", "works")  # the failed transaction left nothing open
    assert await storage.kv.get("next") == "works"


def _counting_trips(store: Storage) -> list[str]:
    """Every call into aiosqlite's thread from now on, by the name of what it ran."""
    conn = store.db.conn  # type: ignore[attr-defined]
    original: Callable[..., Any] = conn._execute
    trips: list[str] = []

    async def counted(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await original(fn, *args, **kwargs)

    conn._execute = counted
    return trips


async def test_sqlite_stores_a_batch_and_queues_its_alerts_in_one_trip_each(tmp_path: Path) -> None:
    # Each trip to the thread waits for the GIL twice while matching runs; a batch used to make ≈ 16.
    store = await Storage.open(tmp_path / "trips.db")
    try:
        chat, _ = await store.chats.get_or_create(ChatKey("telegram", "1"), NOW)
        sub = await store.subscriptions.add(chat.id, "Putin", "putin", NOW)
        assert sub is not None
        items = [(f"h{n}", ArticleDraft(title=f"Putin {n}", body="Text.", lang="de")) for n in range(700)]
        trips = _counting_trips(store)
        ids = await store.articles.insert_many(items + items[:3], NOW, to_match=True)  # 2 statements + repeats
        assert len(trips) == 1
        new = [i for i in ids if i is not None]
        assert len(new) == 700 and ids[700:] == [None, None, None]
        rows = [NewOutboxRow(chat.id, article_id, sub.id, "Putin", "Putin (Putin)") for article_id in new]
        mentions = [ArticleMentions(article_id, date(2026, 3, 1), ("person:putin",)) for article_id in new]
        trips.clear()
        assert await store.outbox.enqueue(rows, NOW, matched=new, mentions=mentions) == 700
        assert len(trips) == 1
        assert await store.articles.unmatched_ids() == []
        assert await store.trends.pending_count() == 0
        assert await store.outbox.enqueue(rows[:5], NOW, matched=new[:5]) == 0  # already queued: not again
    finally:
        await store.close()
