"""A really full disk: the database on a 4 MB tmpfs filled to the last block with a ballast file. Every
write either happens completely or not at all, the user gets a clear answer, and once the ballast is gone
everything refused before goes through. Needs the right to mount (root in a container); elsewhere the
page-limit tests in ``test_disk_full.py`` cover SQLITE_FULL."""

from __future__ import annotations

import asyncio
import errno
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import App, running_app
from bot.core.messaging import IncomingCommand, html_to_text
from config.settings import Settings
from tests.fakes import RecordingMessenger
from tests.reliability.support import fts_consistent
from tests.reliability.test_disk_full import INTERNAL_ERROR, all_sent, article, items, titles_received

pytestmark = pytest.mark.reliability

REPO = Path(__file__).resolve().parents[2]
CHUNK = 64 * 1024


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
            check=True,
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tiny filesystem here ({exc}); test_disk_full.py covers SQLITE_FULL")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=False, capture_output=True, timeout=10)


def fill(path: Path) -> None:
    """Write until the filesystem has no block left (runs in a worker thread)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (CHUNK, 4096, 512, 1):
            block = b"\0" * size
            while True:
                try:
                    os.write(fd, block)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)


@pytest.fixture
async def app_on_tiny_disk(tiny_disk: Path) -> AsyncIterator[tuple[App, RecordingMessenger]]:
    settings = Settings(db_path=tiny_disk / "news.db", seeds_dir=tiny_disk / "none", _env_file=None)  # type: ignore[call-arg]
    messenger = RecordingMessenger()
    async with running_app(settings, load_seeds=False) as app:
        app.services.delivery.register(messenger)
        yield app, messenger


def command(name: str, args: str = "", chat_id: str = "c1") -> IncomingCommand:
    return IncomingCommand(
        platform="fake", chat_id=chat_id, user_id="u1", name=name, args=args, is_bot_admin=True
    )


async def test_a_full_filesystem_refuses_cleanly_and_recovers(
    app_on_tiny_disk: tuple[App, RecordingMessenger], tiny_disk: Path
) -> None:
    app, messenger = app_on_tiny_disk
    reply = await app.handle(command("subscribe", "Putin"))
    assert html_to_text(reply.messages[0].html).startswith("Subscribed: Putin")
    ballast = tiny_disk / "ballast"
    await asyncio.to_thread(fill, ballast)

    with pytest.raises(sqlite3.OperationalError, match="full"):
        await app.services.ingest.ingest_items(items("Platte", 40))
    await fts_consistent(app.storage.db.conn)
    assert await app.storage.articles.count() == 0

    # A small write may still fit in blocks the database already owns; it must then be complete, or else
    # refused with the apology and leave nothing behind.
    reply = await app.handle(command("subscribe", "Kim", chat_id="c2"))
    text = html_to_text(reply.messages[0].html)
    stored = await app.storage.subscriptions.count()
    if text.startswith(INTERNAL_ERROR.format(name="subscribe")):
        assert stored == 1
    else:
        assert text.startswith("Subscribed: Kim") and stored == 2

    await asyncio.to_thread(ballast.unlink)
    report = await app.services.ingest.ingest_items(items("Platte", 40))
    assert report.count("new") == 40
    await all_sent(app, 40)
    assert set(titles_received(messenger, "Platte", 40).values()) == {1}
    await fts_consistent(app.storage.db.conn)


async def test_cli_ingest_on_a_full_filesystem_is_one_line_and_exit_2(tiny_disk: Path) -> None:
    """The disk filled up while the bot was stopped: the next command cannot even reopen the database."""
    db = tiny_disk / "news.db"
    folder = tiny_disk.parent / "in"
    folder.mkdir()
    for n in range(30):
        draft = article("Cli", n)
        (folder / f"{n}.txt").write_text(f"{draft.title}\n\n{draft.body}\n", encoding="utf-8")
    env = {**os.environ, "NEWSALERT_DB_PATH": str(db), "NEWSALERT_SEEDS_DIR": str(folder / "none")}
    env["NEWSALERT_LOG_LEVEL"] = "ERROR"
    created = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "search",
        "anything",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await created.wait()  # the database exists, migrated, while there was room
    await asyncio.to_thread(fill, tiny_disk / "ballast")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "ingest",
        "--no-alerts",
        str(folder),
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    lines = [line for line in err.decode().splitlines() if line.strip()]
    assert proc.returncode == 2, err.decode()[-2000:]
    assert len(lines) == 1, lines
    # SQLite names it "database or disk is full" or, when the WAL cannot even be created, "disk I/O error".
    assert (
        lines[0].startswith(f"newsalert: cannot use database {db}: ")
        and "disk" in lines[0].rsplit(": ", 1)[1]
    )
