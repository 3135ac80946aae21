"""``SqlDatabase.bulk_writes``: on SQLite the writer stops checkpointing and a background checkpointer keeps
the ``-wal`` file bounded; afterwards everything is as before. On PostgreSQL it changes nothing."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from bot.storage.checkpoints import BackgroundCheckpointer
from bot.storage.db import WAL_CHECKPOINT_PAGES, SqliteDatabase
from bot.storage.store import Storage

ROW = b"x" * 16_000  # four pages of the -wal file per row


async def _autocheckpoint(db: SqliteDatabase) -> int:
    row = await db.fetch_one("PRAGMA wal_autocheckpoint")
    assert row is not None
    return int(row[0])


async def _fill(db: SqliteDatabase, transactions: int) -> None:
    for _ in range(transactions):
        async with db.transaction() as tx:
            await tx.run("INSERT INTO filler(data) VALUES (?)", (ROW,))


def _wal_size(db: SqliteDatabase) -> int:
    return Path(f"{db.path}-wal").stat().st_size


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> SqliteDatabase:
    storage = await Storage.open(tmp_path / "bulk.db")
    db = storage.db
    assert isinstance(db, SqliteDatabase)
    async with db.transaction() as tx:
        await tx.run("CREATE TABLE filler (data BLOB NOT NULL)")
    yield db  # type: ignore[misc]
    await storage.close()


async def test_the_writer_checkpoints_again_after_a_bulk_import_even_a_failed_one(sqlite_db: SqliteDatabase) -> None:
    assert await _autocheckpoint(sqlite_db) == WAL_CHECKPOINT_PAGES
    with pytest.raises(RuntimeError, match="import failed"):
        async with sqlite_db.bulk_writes():
            assert await _autocheckpoint(sqlite_db) == 0
            async with sqlite_db.bulk_writes():  # a second import at the same time shares the checkpointer
                await _fill(sqlite_db, 3)
            assert await _autocheckpoint(sqlite_db) == 0  # the first one still runs
            raise RuntimeError("import failed")
    assert await _autocheckpoint(sqlite_db) == WAL_CHECKPOINT_PAGES
    assert _wal_size(sqlite_db) == 0  # emptied (TRUNCATE) when the last one ended
    assert (await sqlite_db.fetch_one("SELECT count(*) FROM filler"))[0] == 3  # type: ignore[index]


async def test_the_wal_file_starts_over_instead_of_growing(
    sqlite_db: SqliteDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import's writer commits again before a pass ends, so the file never looks fully checkpointed when
    its next transaction begins and is appended to for ever, unless the pass finishes in the writer's turn."""
    await sqlite_db.conn.execute("PRAGMA wal_autocheckpoint=0")  # as in bulk_writes: only the checkpointer
    path = Path(sqlite_db.path)
    checkpoint = BackgroundCheckpointer._checkpoint
    race = [False]

    def during_a_write(self: BackgroundCheckpointer) -> int:
        if not race[0]:
            return checkpoint(self)
        race[0] = False  # a transaction that began before the pass commits after it
        writer = sqlite3.connect(path, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("INSERT INTO filler(data) VALUES (?)", (ROW,))
            frames = checkpoint(self)
            writer.execute("COMMIT")
        finally:
            writer.close()
        return frames

    monkeypatch.setattr(BackgroundCheckpointer, "_checkpoint", during_a_write)

    async def never() -> None:
        raise AssertionError("no checkpoint fails here")

    async def growth_after_a_pass(restart_frames: int) -> int:
        """How much the -wal file grows by the transaction after a pass (a file started over is written
        from its beginning and keeps its size)."""
        # every=3600: the timer never fires during the test; the pass is this one step() call
        checkpointer = BackgroundCheckpointer(
            path, lambda: sqlite_db._write_lock, never, every=3600, restart_frames=restart_frames
        )
        await checkpointer.start()
        try:
            await _fill(sqlite_db, 10)
            race[0] = True
            assert await checkpointer.step() >= 50
            size = _wal_size(sqlite_db)
            await _fill(sqlite_db, 1)
            return _wal_size(sqlite_db) - size
        finally:
            await checkpointer.stop()

    assert await growth_after_a_pass(10**9) > 0  # never in the writer's turn: appended to, for ever
    assert await growth_after_a_pass(50) == 0  # finished in the writer's turn: started over


async def test_a_failing_checkpointer_hands_checkpoints_back_to_the_writer(
    sqlite_db: SqliteDatabase, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: BackgroundCheckpointer) -> int:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(BackgroundCheckpointer, "_checkpoint", broken)
    failed = asyncio.Event()

    async def on_failure() -> None:
        failed.set()

    checkpointer = BackgroundCheckpointer(sqlite_db.path, lambda: sqlite_db._write_lock, on_failure, every=0.001)
    with caplog.at_level(logging.WARNING, logger="bot.storage.checkpoints"):
        await checkpointer.start()
        try:
            await asyncio.wait_for(failed.wait(), 10)
        finally:
            await checkpointer.stop()
    assert "background checkpoints stopped (disk I/O error)" in caplog.text


async def test_bulk_writes_keep_every_row_on_both_engines(storage: Storage) -> None:
    async with storage.db.bulk_writes():
        await storage.db.run_all([("INSERT INTO kv(key, value) VALUES (?, ?)", ("bulk", "1"))])
    assert [tuple(row) for row in await storage.db.fetch_all("SELECT value FROM kv WHERE key = 'bulk'")] == [("1",)]


async def test_without_a_second_connection_the_writer_keeps_its_checkpoints(
    sqlite_db: SqliteDatabase, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def refused(self: BackgroundCheckpointer) -> None:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(BackgroundCheckpointer, "start", refused)
    async with sqlite_db.bulk_writes():
        assert await _autocheckpoint(sqlite_db) == WAL_CHECKPOINT_PAGES
        await _fill(sqlite_db, 2)
    assert await _autocheckpoint(sqlite_db) == WAL_CHECKPOINT_PAGES
    assert "checkpoints stay with the writer" in caplog.text
