"""A failover drill at the storage level: two delivery processes drain one PostgreSQL outbox through chat
leases; one is SIGKILLed midway. Every alert is delivered, and a repeat happens only for the one message the
killed process had in flight (claimed, sent, not yet confirmed)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

from bot.storage.store import Storage
from tests.storage.test_instances import _seed

REPO = Path(__file__).resolve().parents[2]
CHATS, ARTICLES = 150, 2

# One instance's delivery loop; "sending" is a line on stdout (the platform confirmed it when it is there).
WORKER = """
import asyncio, sys
from datetime import UTC, datetime, timedelta
from bot.storage.store import Storage

async def main(url: str, name: str) -> None:
    storage = await Storage.open("unused.db", url=url)
    idle = 0
    while idle < 3:
        now = datetime.now(UTC)
        chats = await storage.claims.claim_chats(name, now, limit=5, lease=timedelta(seconds=2))
        for chat in chats:
            for item in await storage.outbox.waiting_for_chat(chat, now):
                await storage.outbox.mark_sending([item.id], f"{name}-{item.id}")
                print(f"{name} {item.chat_id} {item.article_id}", flush=True)
                await storage.outbox.mark_sent([item.id], now)
        await storage.claims.release(name, chats)
        left = sum(n for s, n in (await storage.outbox.status_counts()).items() if s != "sent")
        idle = idle + 1 if not left else 0
        await asyncio.sleep(0 if chats else 0.5)
    await storage.close()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def _start(url: str, name: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER, url, name, stdout=asyncio.subprocess.PIPE, env=env, cwd=REPO
    )


async def _lines(process: asyncio.subprocess.Process, sink: list[str], stop_after: int | None = None) -> None:
    assert process.stdout is not None
    while line := await process.stdout.readline():
        sink.append(line.decode().strip())
        if stop_after is not None and len(sink) >= stop_after:
            os.kill(process.pid, signal.SIGKILL)
            return


async def test_a_killed_delivery_process_loses_nothing_and_repeats_at_most_its_message_in_flight(
    pg_database_url: str,
) -> None:
    storage = await Storage.open("unused.db", url=pg_database_url)
    try:
        await _seed(storage, chats=CHATS, articles=ARTICLES)
        victim, survivor = await _start(pg_database_url, "victim"), await _start(pg_database_url, "survivor")
        victim_lines: list[str] = []
        survivor_lines: list[str] = []
        await asyncio.wait_for(
            asyncio.gather(_lines(victim, victim_lines, stop_after=40), _lines(survivor, survivor_lines)), 600
        )
        await victim.wait()
        assert await survivor.wait() == 0
        assert victim.returncode == -signal.SIGKILL
        sent = Counter(tuple(line.split()[1:]) for line in victim_lines + survivor_lines)
        assert len(sent) == CHATS * ARTICLES, "an alert was never delivered"
        repeats = [pair for pair, n in sent.items() if n > 1]
        assert len(repeats) <= 1 and all(sent[p] == 2 for p in repeats), repeats
        assert await storage.outbox.status_counts() == {"sent": CHATS * ARTICLES}
        assert len(victim_lines) == 40 and len(survivor_lines) >= CHATS * ARTICLES - 40
    finally:
        await storage.close()
