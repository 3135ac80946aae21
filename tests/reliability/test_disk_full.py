"""A full disk (SQLITE_FULL) or a read-only database (SQLITE_READONLY) during ingest, subscribe and delivery:
a clear error, no partial rows (articles, FTS index and outbox agree), and nothing lost once the database
can be written again.

SQLITE_FULL comes from ``PRAGMA max_page_count`` set just above the current size on the application's own
connection (a real full disk also fails the WAL append; the page limit is the portable way to get the same
error code). SQLITE_READONLY comes from ``PRAGMA query_only``, since root ignores file modes.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest

from bot.app import App
from bot.cli import main as cli_main
from bot.core.ingest import ParsedItem
from bot.core.messaging import IncomingCommand, OutgoingMessage, Reply, Sent, html_to_text
from bot.core.models import ArticleDraft
from bot.storage.db import Database
from bot.storage.store import Storage
from bot.transports.console import local_attachment
from tests.fakes import RecordingMessenger
from tests.reliability.support import changed_tables, fts_consistent, scalar, snapshot

pytestmark = pytest.mark.reliability

SQLITE_MAX_PAGES = 1_073_741_823  # SQLite's default limit: "space is back"
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING) ")
INTERNAL_ERROR = "Sorry, something went wrong while handling /{name}."


def article(prefix: str, n: int) -> ArticleDraft:
    """A few kilobytes of distinct text (no near-duplicate folding), mentioning Putin."""
    filler = " ".join(f"{prefix.lower()}wort{n}x{k}" for k in range(250))
    body = (
        f"Kremlchef Wladimir Putin hat am Montag die Meldung {prefix} {n} kommentiert. "
        f"Die Einzelheiten der Meldung folgen. {filler}. Putin äußerte sich nicht weiter."
    )
    return ArticleDraft(title=f"{prefix} Meldung {n} über Putin", body=body, lang="de")


def items(prefix: str, count: int) -> list[ParsedItem]:
    return [ParsedItem(f"{prefix}-{n}", article(prefix, n), "ok") for n in range(count)]


def command(name: str, args: str = "", *, platform: str = "fake", chat_id: str = "c1") -> IncomingCommand:
    return IncomingCommand(
        platform=platform, chat_id=chat_id, user_id="u1", name=name, args=args, is_bot_admin=True
    )


def text_of(reply: Reply) -> str:
    return "\n".join(html_to_text(m.html) for m in reply.messages)


@contextlib.asynccontextmanager
async def database_full(conn: aiosqlite.Connection) -> AsyncIterator[None]:
    """No room for the database to grow by more than a page; the limit is lifted on exit."""
    pages = await scalar(conn, "PRAGMA page_count")
    await conn.execute(f"PRAGMA max_page_count = {int(pages) + 1}")
    try:
        yield
    finally:
        await conn.execute(f"PRAGMA max_page_count = {SQLITE_MAX_PAGES}")


@contextlib.asynccontextmanager
async def database_read_only(conn: aiosqlite.Connection) -> AsyncIterator[None]:
    await conn.execute("PRAGMA query_only = ON")
    try:
        yield
    finally:
        await conn.execute("PRAGMA query_only = OFF")


async def consistent_counts(app: App) -> tuple[int, dict[str, int]]:
    """Article and outbox counts, after checking the FTS index agrees with the articles table."""
    await fts_consistent(app.storage.db.conn)
    return await app.storage.articles.count(), await app.storage.outbox.status_counts()


async def all_sent(app: App, expected: int, *, within: float = 30.0) -> None:
    """Wait (kicking the worker, never a fixed sleep as the check) until ``expected`` rows are sent."""
    async with asyncio.timeout(within):
        while (await app.storage.outbox.status_counts()).get("sent", 0) < expected:
            app.services.delivery.kick()
            await asyncio.sleep(0.05)


def titles_received(messenger: RecordingMessenger, prefix: str, count: int) -> Counter[str]:
    """How often each article title reached the platform (alerts and digests alike)."""
    text = "\n".join(messenger.texts())
    return Counter(
        {
            f"{prefix} Meldung {n} über Putin": text.count(f"{prefix} Meldung {n} über Putin")
            for n in range(count)
        }
    )


# ------------------------------------------------------------------------------------------ ingest


async def test_disk_full_during_ingest_stores_nothing_then_everything(
    app: App, messenger: RecordingMessenger
) -> None:
    reply = await app.handle(command("subscribe", "Putin"))
    assert text_of(reply).startswith("Subscribed: Putin")
    before = await consistent_counts(app)
    snap = await snapshot(app.storage.db.conn)

    async with database_full(app.storage.db.conn):
        with pytest.raises(sqlite3.OperationalError, match="full"):
            await app.services.ingest.ingest_items(items("Voll", 40))
        assert changed_tables(snap, await snapshot(app.storage.db.conn)) == []

    assert await consistent_counts(app) == before
    report = await app.services.ingest.ingest_items(items("Voll", 40))
    assert report.count("new") == 40, "nothing may have been half-stored the first time"
    await all_sent(app, 40)
    assert set(titles_received(messenger, "Voll", 40).values()) == {1}
    await fts_consistent(app.storage.db.conn)


async def test_disk_full_during_an_admin_upload_is_a_clear_refusal(app: App, tmp_path: Path) -> None:
    seed = tmp_path / "putin.txt"
    draft = article("Upload", 1)
    seed.write_text(f"date 2024-05-01\n{draft.title}\n\n{draft.body}\n", encoding="utf-8")
    before = await consistent_counts(app)
    async with database_full(app.storage.db.conn):
        # The console transport passes a local path as the attachment; the dispatcher catches the error.
        await app.handle(command("start"))
        upload = IncomingCommand(
            platform="fake",
            chat_id="c1",
            user_id="u1",
            name="addseed",
            is_bot_admin=True,
            attachment=local_attachment(str(seed)),
        )
        reply = await app.handle(upload)
    assert text_of(reply).startswith(INTERNAL_ERROR.format(name="addseed"))
    assert await consistent_counts(app) == before
    assert "Stored 1 new article" in text_of(await app.handle(upload))


# ------------------------------------------------------------------------------------------ read-only


async def test_read_only_database_refuses_subscribe_and_ingest_cleanly(app: App) -> None:
    await app.handle(command("start"))
    await app.services.trends.settle()  # the seeds' trend mentions are written in the background
    snap = await snapshot(app.storage.db.conn)
    indexed = len(app.pipeline)
    async with database_read_only(app.storage.db.conn):
        reply = await app.handle(command("subscribe", "Putin"))
        assert text_of(reply).startswith(INTERNAL_ERROR.format(name="subscribe"))
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await app.services.ingest.ingest_items(items("Lesen", 5))
        reply = await app.handle(command("mode", "daily"))
        assert text_of(reply).startswith(INTERNAL_ERROR.format(name="mode"))
    assert changed_tables(snap, await snapshot(app.storage.db.conn)) == []
    assert len(app.pipeline) == indexed, "a subscription that was not stored must not match"
    await fts_consistent(app.storage.db.conn)

    reply = await app.handle(command("subscribe", "Putin"))
    assert text_of(reply).startswith("Subscribed: Putin")
    assert (await app.services.ingest.ingest_items(items("Lesen", 5))).count("new") == 5


async def test_read_only_during_delivery_sends_nothing_and_loses_nothing(app: App) -> None:
    # A chat on a platform without a messenger yet: its alerts wait in the outbox.
    await app.handle(command("subscribe", "Putin", platform="late", chat_id="late-1"))
    await app.services.ingest.ingest_items(items("Warte", 12))
    waiting = await app.storage.outbox.status_counts()
    assert waiting.get("pending") == 12

    late = RecordingMessenger(platform="late")
    async with database_read_only(app.storage.db.conn):
        app.services.delivery.register(late)
        await app.services.delivery.run_due()  # the failure is logged per chat; the pass goes on
        assert late.sent == [], "nothing may be sent that cannot be marked"
        assert await app.storage.outbox.status_counts() == waiting

    await all_sent(app, 12)
    assert set(titles_received(late, "Warte", 12).values()) == {1}


class ReadOnlyAfterSend(RecordingMessenger):
    """The platform accepts the message, then the database turns read-only before it is marked sent."""

    def __init__(self, storage: Storage) -> None:
        super().__init__(platform="late", dedupe_by_key=True)
        self._storage = storage
        self.tripped = False

    async def send(self, chat_id: str, message: OutgoingMessage) -> Sent:
        sent = await super().send(chat_id, message)
        if not self.tripped:
            self.tripped = True
            await self._storage.db.conn.execute("PRAGMA query_only = ON")
        return sent


async def test_read_only_between_send_and_mark_marks_later_without_a_resend(app: App) -> None:
    await app.handle(command("subscribe", "Putin", platform="late", chat_id="late-2"))
    await app.services.ingest.ingest_items(items("Knapp", 3))
    platform = ReadOnlyAfterSend(app.storage)
    platform.dedupe_by_key = False  # even a platform that shows every send twice must see it once
    app.services.delivery.register(platform)
    await app.services.delivery.run_due()
    assert (await app.storage.outbox.status_counts()).get("sending") == 3, "claimed rows stay claimed"

    await app.storage.db.conn.execute("PRAGMA query_only = OFF")
    await all_sent(app, 3)
    # The platform confirmed it: the 'sent' mark is retried, the message is not.
    assert set(titles_received(platform, "Knapp", 3).values()) == {1}
    keys = [message.idempotency_key for _, message in platform.sent]
    assert len(keys) == len(set(keys))


# ------------------------------------------------------------------------------------------ command line


def nearly_full_on_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on every connection the CLI opens can grow by one page only (the disk is nearly full)."""
    configure = Database._configure

    async def nearly_full(self: Database) -> None:
        await configure(self)
        pages = await scalar(self.conn, "PRAGMA page_count")
        await self.conn.execute(f"PRAGMA max_page_count = {int(pages) + 1}")

    monkeypatch.setattr(Database, "_configure", nearly_full)


def test_cli_ingest_on_a_full_disk_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "news.db"
    asyncio.run(_create(db))  # migrated while there was room
    nearly_full_on_open(monkeypatch)
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(20):
        draft = article("Cli", n)
        (folder / f"{n}.txt").write_text(f"{draft.title}\n\n{draft.body}\n", encoding="utf-8")
    monkeypatch.setenv("NEWSALERT_DB_PATH", str(db))
    monkeypatch.setenv("NEWSALERT_SEEDS_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("NEWSALERT_LOG_LEVEL", "ERROR")
    # An earlier test's CLI run may have left a root log handler on a stream that is closed by now; the
    # command's own error line is what is checked here, so logging goes nowhere.
    monkeypatch.setattr(logging.root, "handlers", [logging.NullHandler()])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli_main(["ingest", "--no-alerts", str(folder)])
        except Exception as exc:  # what the user would see as a traceback
            code = -1
            err.write(f"Traceback: {type(exc).__name__}: {exc}\n")
    # Log records (when logging is not captured) are not the error report; only the rest must be one line.
    problem = [line for line in err.getvalue().splitlines() if line.strip() and not LOG_LINE.match(line)]
    assert code == 2, err.getvalue()
    assert len(problem) == 1 and "Traceback" not in problem[0], problem
    assert problem[0].startswith("newsalert: ") and problem[0].endswith("database or disk is full"), problem
    assert asyncio.run(_count(db)) == 0


async def _create(db: Path) -> None:
    storage = await Storage.open(db)
    await storage.close()


async def _count(db: Path) -> int:
    storage = await Storage.open(db)
    try:
        await fts_consistent(storage.db.conn)
        return await storage.articles.count()
    finally:
        await storage.close()
