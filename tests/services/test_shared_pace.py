"""The global budget several instances share (PostgreSQL), taken from the database in blocks: far fewer
transactions than messages, and still no token handed out before the bucket allows it."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable

import pytest

from bot.services.delivery.shared_pace import SharedPacer
from bot.storage.pacing import PacingRepository
from bot.storage.store import Storage

RATE = 100.0  # tokens a second; the bucket starts with a second's worth (burst = rate)


@pytest.fixture
async def pg_storage(pg_database_url: str) -> AsyncIterator[Storage]:
    storage = await Storage.open("unused.db", url=pg_database_url)
    try:
        yield storage
    finally:
        await storage.close()


class CountingPacing(PacingRepository):
    """The real repository; it counts its transactions, and with ``gates`` each waits for its own gate."""

    def __init__(self, real: PacingRepository, gates: list[asyncio.Event] | None = None) -> None:
        super().__init__(real._db)
        self.blocks: list[int] = []
        self._gates = gates

    async def reserve_many(
        self, name: str, rate: float, burst: float, count: int, now: float | None = None
    ) -> tuple[float, ...]:
        self.blocks.append(count)
        if self._gates is not None:
            await self._gates[len(self.blocks) - 1].wait()
        return await super().reserve_many(name, rate, burst, count, now)


async def until(check: Callable[[], bool]) -> None:
    """Polled: what is awaited is a state of the pacer, reached within a few loop turns."""
    deadline = asyncio.get_running_loop().time() + 10
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0)


async def test_a_fan_out_takes_its_tokens_in_blocks_and_keeps_to_the_rate(pg_storage: Storage) -> None:
    counting = CountingPacing(pg_storage.pacing)
    pacer = SharedPacer(dataclasses.replace(pg_storage, pacing=counting))
    loop = asyncio.get_running_loop()
    released: list[float] = []

    async def send() -> None:
        await pacer.pace("telegram", RATE)
        released.append(loop.time())

    started = loop.time()
    await asyncio.gather(*(send() for _ in range(250)))

    assert sum(counting.blocks) >= 250 and max(counting.blocks) <= RATE / 10
    assert len(counting.blocks) <= 250 / 5  # one transaction per message before
    # The bucket's rule: the first second's worth at once, then one token every 1 / RATE seconds.
    for n, moment in enumerate(sorted(released)):
        assert moment - started >= (n + 1 - RATE) / RATE - 0.02, n


async def test_tokens_nobody_used_in_time_are_dropped_not_saved_up(pg_storage: Storage) -> None:
    gates = [asyncio.Event() for _ in range(3)]
    counting = CountingPacing(pg_storage.pacing, gates)
    moment = [1_000.0]
    pacer = SharedPacer(dataclasses.replace(pg_storage, pacing=counting), now=lambda: moment[0])
    first = asyncio.create_task(pacer.pace("matrix", RATE))
    await until(lambda: len(counting.blocks) == 1)  # the first sender alone: a block of one
    later = [asyncio.create_task(pacer.pace("matrix", RATE)) for _ in range(4)]
    await until(lambda: pacer._tokens["matrix"].waiting == 5)
    gates[0].set()
    await first
    await until(lambda: len(counting.blocks) == 2)
    assert counting.blocks[1] == 4  # one token for each sender waiting meanwhile
    for task in later[1:]:
        task.cancel()  # three senders go away (a shutdown, a chat gone) after their tokens were taken
    gates[1].set()
    await asyncio.gather(*later, return_exceptions=True)
    assert len(pacer._tokens["matrix"].ready_at) == 3

    moment[0] += 10.0  # long past the moments of those three tokens
    gates[2].set()
    await pacer.pace("matrix", RATE)
    assert counting.blocks[2:] == [1]  # a fresh token, not an old one: nothing was saved up
    assert not pacer._tokens["matrix"].ready_at
