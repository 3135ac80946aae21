"""SIGKILL during a fan-out loses nothing; repeats are bounded by what was in flight (zero with dedupe)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.services.delivery import DEFAULT_CONCURRENCY

pytestmark = pytest.mark.reliability

REPO = Path(__file__).resolve().parents[2]
CHATS = 2000
KILL_AFTER = 500  # accepted messages before the kill


def worker(mode: str, db: Path, log: Path, dedupe: bool) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.reliability.crash_worker",
            mode,
            str(db),
            str(log),
            str(CHATS),
            str(int(dedupe)),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NEWSALERT_LOG_LEVEL": "WARNING"},
    )


def lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def kill_midway(db: Path, log: Path, dedupe: bool) -> int:
    proc = worker("fanout", db, log, dedupe)
    deadline = time.monotonic() + 120
    while len(lines(log)) < KILL_AFTER:
        if proc.poll() is not None:
            pytest.fail(f"fan-out worker exited early: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("fan-out did not reach the kill point in time")
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return len(lines(log))


def resume(db: Path, log: Path, dedupe: bool) -> None:
    proc = worker("resume", db, log, dedupe)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()[-2000:]


@pytest.mark.parametrize("dedupe", [False, True], ids=["telegram-like", "matrix-like"])
def test_sigkill_mid_fanout_loses_nothing(tmp_path: Path, dedupe: bool) -> None:
    db, log = tmp_path / "news.db", tmp_path / "platform.log"
    at_kill = kill_midway(db, log, dedupe)
    assert KILL_AFTER <= at_kill < CHATS, "the kill must land mid-fan-out"
    resume(db, log, dedupe)
    per_chat = Counter(line.split("\t")[0] for line in lines(log))
    assert set(per_chat) == {f"chat{n}" for n in range(CHATS)}, "an alert was lost"
    repeats = sum(count - 1 for count in per_chat.values())
    if dedupe:
        assert repeats == 0
    else:
        # Only messages in flight at the kill can repeat: at most one per concurrently served chat.
        assert repeats <= DEFAULT_CONCURRENCY
