"""Several ``newsalert run`` processes on one PostgreSQL, talking to the local Telegram test server.

1. Two instances, a 2,000-chat fan-out, the leader SIGKILLed midway: every chat gets its alert, repeats stay
   within what the dead instance had in flight, nobody polled twice at once (no 409), and the survivor took
   over polling within 10 s of the kill (measured from the times this test records).
2. Three instances drain one outbox: every chat gets its alert exactly once.

The instances are real subprocesses (``python -m bot run``); the test server runs on this test's event loop.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.models import ArticleDraft, ChatKey
from bot.services.delivery import DEFAULT_CONCURRENCY
from bot.storage.outbox import NewOutboxRow
from bot.storage.store import Storage
from tests.telegram_server import BotApiServer, TgChat

pytestmark = [pytest.mark.reliability, pytest.mark.telegram]

REPO = Path(__file__).resolve().parents[2]
CHATS = 2_000
RATE = 150.0  # msg/s shared by all instances: the fan-out takes ~13 s, time enough to kill the leader midway
TITLE = "Gipfeltreffen in Wladiwostok"
# What the killed instance may repeat: messages the platform confirmed but it had not yet marked sent, i.e.
# its senders in flight plus the confirmations waiting for their group commit.
IN_FLIGHT_BOUND = DEFAULT_CONCURRENCY + DEFAULT_CONCURRENCY // 2
TAKEOVER_LIMIT = 10.0


class Instance:
    def __init__(self, name: str, process: asyncio.subprocess.Process, log: Path) -> None:
        self.name, self.process, self.log = name, process, log

    def logged(self, text: str) -> bool:
        return text in self.log.read_text(errors="replace")

    async def wait_logged(self, text: str, within: float = 60.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not self.logged(text):
            if self.process.returncode is not None or loop.time() > deadline:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise AssertionError(f"instance {self.name} never logged {text!r}:\n{tail}")
            await asyncio.sleep(0.1)


@asynccontextmanager
async def instances_of(server: BotApiServer, url: str, tmp_path: Path) -> AsyncIterator[list[Instance]]:
    """Yields a list to append started instances to; all still alive are stopped (SIGTERM) at the end."""
    started: list[Instance] = []
    try:
        yield started
    finally:
        for instance in started:
            if instance.process.returncode is None:
                instance.process.send_signal(signal.SIGTERM)
        for instance in started:
            try:
                await asyncio.wait_for(instance.process.wait(), 30)
            except TimeoutError:
                instance.process.kill()
                await instance.process.wait()


async def start_instance(
    server: BotApiServer, url: str, tmp_path: Path, name: str, rate: float = RATE
) -> Instance:
    (tmp_path / "no-seeds").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "NEWSALERT_DATABASE_URL": url,
        "NEWSALERT_DB_PATH": str(tmp_path / f"{name}.db"),  # unused with PostgreSQL
        "NEWSALERT_SEEDS_DIR": str(tmp_path / "no-seeds"),
        "NEWSALERT_TELEGRAM__TOKEN": server.token,
        "NEWSALERT_TELEGRAM__API_BASE_URL": server.api_base_url,
        "NEWSALERT_TELEGRAM__FILE_BASE_URL": server.file_base_url,
        "NEWSALERT_TELEGRAM__GLOBAL_RATE": str(rate),
        "NEWSALERT_TELEGRAM__POLL_TIMEOUT": "1",
        "NEWSALERT_LOG_LEVEL": "INFO",
    }
    log = tmp_path / f"{name}.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path, stdout=sink, stderr=sink
        )
    return Instance(name, process, log)


async def seed_fan_out(url: str, server: BotApiServer) -> list[TgChat]:
    """2,000 private chats on the server and in the database, one alert waiting for each."""
    chats = [server.private_chat(server.add_user(10_000 + n, f"U{n}")) for n in range(CHATS)]
    now = datetime.now(UTC)
    storage = await Storage.open(Path("unused.db"), url=url)
    try:
        draft = ArticleDraft(title=TITLE, body="Putin und Kim trafen sich in Wladiwostok zu Gesprächen.", lang="de")
        [article] = await storage.articles.insert_many([("fan-out", draft)], now)
        assert article is not None
        ids = [(await storage.chats.get_or_create(ChatKey("telegram", str(c.id)), now))[0].id for c in chats]
        assert await storage.outbox.enqueue([NewOutboxRow(i, article, None, "Putin", "Putin") for i in ids], now)
    finally:
        await storage.close()
    return chats


def alerts_per_chat(server: BotApiServer, chats: list[TgChat]) -> Counter[int]:
    return Counter({c.id: sum(TITLE in (m.text or "") for m in server.bot_messages(c)) for c in chats})


def delivered(server: BotApiServer, chats: list[TgChat]) -> int:
    return sum(1 for count in alerts_per_chat(server, chats).values() if count)


async def until(check: Callable[[], bool], *, within: float, what: str, every: float = 0.2) -> None:
    """Poll a condition (checking 2,000 chats on every server change would cost more than the test)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(every)


async def test_the_leader_killed_midway_loses_nothing_and_the_other_takes_over_polling(
    tmp_path: Path, pg_database_url: str
) -> None:
    loop = asyncio.get_running_loop()
    async with BotApiServer() as server, instances_of(server, pg_database_url, tmp_path) as started:
        # Migrate before the instances start, so both come up at once afterwards.
        await (await Storage.open(Path("unused.db"), url=pg_database_url)).close()
        leader = await start_instance(server, pg_database_url, tmp_path, "a")
        started.append(leader)
        await leader.wait_logged("is polling for updates")
        follower = await start_instance(server, pg_database_url, tmp_path, "b")
        started.append(follower)
        await follower.wait_logged("newsalert running")
        assert not follower.logged("is polling for updates")

        chats = await seed_fan_out(pg_database_url, server)
        await until(lambda: delivered(server, chats) >= CHATS // 3, within=60, what="a third delivered")
        conflicts_before_kill = server.conflicts
        leader.process.kill()  # SIGKILL: no shutdown, its lock goes with its connection
        killed_at = loop.time()
        await leader.process.wait()
        polls_before = len(server.calls_to("getUpdates"))  # the dead leader's last polls are all in
        at_kill = delivered(server, chats)
        assert at_kill < CHATS, "the fan-out was over before the kill; the drill proves nothing"

        await until(lambda: len(server.calls_to("getUpdates")) > polls_before, within=30, what="polls", every=0.05)
        took_over = loop.time() - killed_at
        user = server.add_user(99, "Late")
        late_chat = server.private_chat(user)
        server.user_sends(late_chat, user, "/help")
        await server.wait_for_bot_messages(late_chat, 1, within=30)  # polling resumed: commands answered

        await until(lambda: delivered(server, chats) == CHATS, within=90, what="every chat delivered")
        repeats = sum(count - 1 for count in alerts_per_chat(server, chats).values() if count > 1)

    assert follower.logged("this instance leads")
    assert took_over <= TAKEOVER_LIMIT, f"polling resumed {took_over:.1f}s after the kill"
    # Never two instances polling at once while both lived. (After the kill, the dead leader's long poll is
    # still open on the server and ends with a 409 nobody reads, as on Telegram.)
    assert conflicts_before_kill == 0
    assert repeats <= IN_FLIGHT_BOUND, f"{repeats} repeated alerts"
    print(
        f"\nkilled after {at_kill}/{CHATS} chats; polling resumed after {took_over:.2f}s; {repeats} repeat(s);"
        f" 409s after the kill: {server.conflicts}"
    )


async def test_three_instances_drain_one_outbox_without_a_duplicate(tmp_path: Path, pg_database_url: str) -> None:
    async with BotApiServer() as server, instances_of(server, pg_database_url, tmp_path) as started:
        await (await Storage.open(Path("unused.db"), url=pg_database_url)).close()
        for name in ("a", "b", "c"):
            started.append(await start_instance(server, pg_database_url, tmp_path, name, rate=3 * RATE))
        for instance in started:
            await instance.wait_logged("newsalert running")
        chats = await seed_fan_out(pg_database_url, server)
        await until(lambda: delivered(server, chats) == CHATS, within=90, what="every chat delivered")
        await asyncio.sleep(1.0)  # not an assertion on time: a late duplicate would have this long to show up
        counts = alerts_per_chat(server, chats)
        conflicts = server.conflicts  # before shutdown: a handover at shutdown leaves an abandoned poll a 409
        storage = await Storage.open(Path("unused.db"), url=pg_database_url)
        try:
            status = await storage.outbox.status_counts()
        finally:
            await storage.close()

    assert set(counts.values()) == {1}, Counter(counts.values())
    assert status == {"sent": CHATS}
    assert conflicts == 0
    assert sum(i.logged("this instance leads") for i in started) == 1
