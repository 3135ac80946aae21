"""Leadership on a real PostgreSQL: one leader among competing instances, takeover within 10 s after the
leader's process is SIGKILLed, and receivers stopped when the lock's connection is lost."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bot.storage.advisory_lock import AdvisoryLockLeadership
from bot.storage.leader import (
    Leadership,
    SingleProcessLeadership,
    current_leader,
    leadership_for,
)
from bot.storage.store import Storage

REPO = Path(__file__).resolve().parents[2]
FAST = {"retry_seconds": 0.5, "check_seconds": 0.5}
# The bound for "the other instance took over"; a bound on waiting, not a measured speed.
TAKEOVER_BOUND = 10.0

HOLDER = """
import asyncio, sys
from bot.storage.advisory_lock import AdvisoryLockLeadership

async def main() -> None:
    leadership = AdvisoryLockLeadership(sys.argv[1], retry_seconds=0.5, check_seconds=0.5)
    await leadership.acquire()
    print("leader", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


@pytest.fixture
async def elections(pg_database_url: str) -> AsyncIterator[list[AdvisoryLockLeadership]]:
    made: list[AdvisoryLockLeadership] = []
    yield made
    for leadership in made:
        await leadership.close()


def _election(url: str, made: list[AdvisoryLockLeadership]) -> AdvisoryLockLeadership:
    leadership = AdvisoryLockLeadership(url, **FAST)
    made.append(leadership)
    return leadership


async def _still_waiting(leadership: Leadership, seconds: float) -> bool:
    try:
        await asyncio.wait_for(leadership.acquire(), seconds)
    except TimeoutError:
        return True
    return False


async def test_only_one_of_three_competitors_leads(
    pg_database_url: str, elections: list[AdvisoryLockLeadership]
) -> None:
    first, second, third = (_election(pg_database_url, elections) for _ in range(3))
    await first.acquire()
    assert await _still_waiting(second, 1.5) and await _still_waiting(third, 0.1)
    assert (first.is_leader, second.is_leader, third.is_leader) == (True, False, False)
    await first.release()  # a clean shutdown hands over at once
    await asyncio.wait_for(second.acquire(), TAKEOVER_BOUND)
    assert second.is_leader and not first.is_leader
    assert await _still_waiting(first, 1.0)


async def test_sigkilled_leader_process_is_replaced_within_ten_seconds(
    pg_database_url: str, elections: list[AdvisoryLockLeadership]
) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, pg_database_url, stdout=subprocess.PIPE, env=env, cwd=REPO
    )
    try:
        assert holder.stdout is not None
        line = await asyncio.wait_for(holder.stdout.readline(), 60)
        assert line.strip() == b"leader"
        follower = _election(pg_database_url, elections)
        assert await _still_waiting(follower, 2.0)  # the other process holds it: we follow
        os.kill(holder.pid, signal.SIGKILL)
        await asyncio.wait_for(follower.acquire(), TAKEOVER_BOUND)
        assert follower.is_leader
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.wait()


async def test_receivers_stop_when_the_lock_connection_is_lost_and_restart_on_regaining(
    pg_database_url: str, elections: list[AdvisoryLockLeadership]
) -> None:
    leadership = _election(pg_database_url, elections)
    events: list[str] = []
    started = asyncio.Event()
    stopped = asyncio.Event()

    async def start() -> None:
        events.append("start")
        started.set()

    async def stop() -> None:
        events.append("stop")
        stopped.set()

    task = asyncio.create_task(leadership.run_as_leader(start, stop))
    try:
        await asyncio.wait_for(started.wait(), TAKEOVER_BOUND)
        started.clear()
        # An operator (or a network cut) ends the leader's session: the lock goes with it.
        admin = await asyncpg.connect(pg_database_url)
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            )
        finally:
            await admin.close()
        assert killed == 1
        await asyncio.wait_for(stopped.wait(), TAKEOVER_BOUND)
        await asyncio.wait_for(started.wait(), TAKEOVER_BOUND)  # nobody else wanted it: leads again
        assert events == ["start", "stop", "start"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert events[-1] == "stop" and not leadership.is_leader


async def test_sqlite_is_always_the_leader(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "news.db")
    try:
        leadership = leadership_for(storage.db)
        assert isinstance(leadership, SingleProcessLeadership)
        assert await current_leader(storage.db) is None
        await asyncio.wait_for(leadership.acquire(), 1)
        assert leadership.is_leader
        waiting = asyncio.create_task(leadership.lost())
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await leadership.close()
        await asyncio.wait_for(waiting, 1)
    finally:
        await storage.close()


async def test_leadership_for_postgres_storage_uses_the_advisory_lock(pg_database_url: str) -> None:
    storage = await Storage.open("unused.db", url=pg_database_url)
    try:
        leadership = leadership_for(storage.db, **FAST)
        assert isinstance(leadership, AdvisoryLockLeadership)
        assert await current_leader(storage.db) is None
        await asyncio.wait_for(leadership.acquire(), TAKEOVER_BOUND)
        shown = await current_leader(storage.db)
        assert shown is not None and f":{os.getpid()} from 127.0.0.1, connected since 20" in shown, shown
        await leadership.close()
        assert await current_leader(storage.db) is None
    finally:
        await storage.close()
