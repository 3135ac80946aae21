"""The send limiter's budgets, measured on virtual time (no real waiting)."""

from __future__ import annotations

import asyncio
import itertools
import random
from bisect import bisect_left

import pytest

from bot.core.alerts.pacing import RateLimiter
from tests.core.alerts.virtual_time import VirtualTimeLoop, run_virtual

EPS = 1e-6


def telegram_limiter() -> RateLimiter:
    return RateLimiter(30, 1, 20, now=asyncio.get_running_loop().time)


async def send_all(limiter: RateLimiter, chats: list[tuple[str, bool]]) -> list[tuple[float, str]]:
    """Start one task per send at once (a fan-out); record (time, chat) when each send goes out."""
    loop = asyncio.get_running_loop()
    log: list[tuple[float, str]] = []

    async def send(chat: str, is_group: bool) -> None:
        async with limiter.slot(chat, is_group):
            log.append((loop.time(), chat))

    await asyncio.gather(*(send(chat, is_group) for chat, is_group in chats))
    return log


def most_in_any_window(times: list[float], width: float) -> int:
    ordered = sorted(times)
    return max(bisect_left(ordered, start + width - EPS) - i for i, start in enumerate(ordered))


def test_one_chat_gets_one_message_a_second() -> None:
    async def main() -> list[tuple[float, str]]:
        return await send_all(telegram_limiter(), [("alice", False)] * 100)

    times = [t for t, _ in run_virtual(main())]
    assert len(times) == 100
    assert times[-1] - times[0] >= 99 - EPS
    assert all(b - a >= 1 - EPS for a, b in itertools.pairwise(times))


def test_fan_out_to_many_chats_runs_at_the_global_rate() -> None:
    async def main() -> tuple[list[tuple[float, str]], float]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        log = await send_all(telegram_limiter(), [(f"chat{i}", False) for i in range(1000)])
        return log, loop.time() - start

    log, elapsed = run_virtual(main())
    assert len({chat for _, chat in log}) == 1000
    assert 33.0 <= elapsed <= 34.0  # 1000 / 30 per second
    assert most_in_any_window([t for t, _ in log], 1.0) <= 30


def test_group_chat_gets_twenty_messages_a_minute() -> None:
    async def main() -> list[tuple[float, str]]:
        return await send_all(telegram_limiter(), [("-100group", True)] * 45)

    times = [t for t, _ in run_virtual(main())]
    assert most_in_any_window(times, 60.0) <= 20
    assert times[19] - times[0] < 20  # the first twenty go out a second apart
    assert times[20] - times[0] >= 60 - EPS
    assert times[40] - times[0] >= 120 - EPS


def test_private_chats_are_not_held_to_the_group_budget() -> None:
    async def main() -> list[tuple[float, str]]:
        return await send_all(telegram_limiter(), [("alice", False)] * 45)

    times = [t for t, _ in run_virtual(main())]
    assert times[-1] - times[0] == pytest.approx(44, abs=0.1)


def test_a_busy_chat_does_not_delay_other_chats() -> None:
    async def main() -> dict[str, list[float]]:
        limiter = telegram_limiter()
        loop = asyncio.get_running_loop()
        sent: dict[str, list[float]] = {"busy": [], "quiet": []}

        async def send(chat: str) -> None:
            async with limiter.slot(chat):
                sent[chat].append(loop.time())

        busy = [asyncio.create_task(send("busy")) for _ in range(100)]
        await asyncio.sleep(0)
        await asyncio.gather(*(send("quiet") for _ in range(3)))
        quiet_done = loop.time()
        await asyncio.gather(*busy)
        sent["quiet"].append(quiet_done)
        return sent

    sent = run_virtual(main())
    assert sent["quiet"][-1] <= 3.0  # three messages a second apart, not after the busy chat's 100
    assert sent["busy"][-1] >= 99 - EPS


def test_a_slow_send_blocks_only_its_own_chat() -> None:
    async def main() -> tuple[float, list[float]]:
        limiter = telegram_limiter()
        loop = asyncio.get_running_loop()
        others: list[float] = []

        async def slow() -> None:
            async with limiter.slot("stuck"):
                await asyncio.sleep(600)  # a send hanging on a dead connection

        async def quick(chat: str) -> None:
            async with limiter.slot(chat):
                others.append(loop.time())

        stuck = asyncio.create_task(slow())
        await asyncio.sleep(0)
        await asyncio.gather(*(quick(f"chat{i}") for i in range(60)))
        done = loop.time()
        await stuck
        return done, others

    done, others = run_virtual(main())
    assert done <= 2.1  # 60 chats at 30/s
    assert len(others) == 60


def test_messages_to_one_chat_keep_their_order() -> None:
    async def main() -> list[int]:
        limiter = telegram_limiter()
        order: list[int] = []

        async def send(n: int) -> None:
            async with limiter.slot("alice"):
                order.append(n)

        await asyncio.gather(*(send(n) for n in range(20)))
        return order

    assert run_virtual(main()) == list(range(20))


def test_pause_stops_every_chat_for_the_flood_wait() -> None:
    async def main() -> tuple[float, list[float]]:
        limiter = telegram_limiter()
        loop = asyncio.get_running_loop()
        times: list[float] = []
        paused_at = 0.0

        async def send(chat: str, index: int) -> None:
            nonlocal paused_at
            async with limiter.slot(chat):
                times.append(loop.time())
                if index == 5:  # the platform answers 429, retry_after=10
                    paused_at = loop.time()
                    limiter.pause(10)

        await asyncio.gather(*(send(f"chat{i}", i) for i in range(40)))
        return paused_at, times

    paused_at, times = run_virtual(main())
    after = [t for t in times if t > paused_at + EPS]
    assert len(times) == 40 and len(after) == 34
    assert min(after) >= paused_at + 10 - EPS
    assert most_in_any_window(times, 1.0) <= 30


def test_limiter_without_per_chat_budgets() -> None:
    async def main() -> list[tuple[float, str]]:
        limiter = RateLimiter(10, now=asyncio.get_running_loop().time)
        return await send_all(limiter, [("room", True)] * 50)

    times = [t for t, _ in run_virtual(main())]
    assert times[-1] - times[0] == pytest.approx(4.9, abs=0.01)  # only the overall 10/s applies


def test_cancelled_waiter_releases_its_chat() -> None:
    async def main() -> float:
        limiter = telegram_limiter()
        loop = asyncio.get_running_loop()
        async with limiter.slot("alice"):
            pass
        waiter = asyncio.create_task(_enter(limiter, "alice"))
        await asyncio.sleep(0.1)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        async with limiter.slot("alice"):
            return loop.time()

    assert run_virtual(main()) == pytest.approx(1.0, abs=0.05)


async def _enter(limiter: RateLimiter, chat: str) -> None:
    async with limiter.slot(chat):
        pass


def test_idle_chats_are_forgotten() -> None:
    async def main() -> int:
        limiter = telegram_limiter()
        await send_all(limiter, [(f"chat{i}", True) for i in range(3000)])
        await asyncio.sleep(61)
        await send_all(limiter, [("late", False)])
        return len(limiter._chats)

    assert run_virtual(main()) < 3000



@pytest.mark.parametrize(("args", "message"), [((0,), "global"), ((30, 0), "per_chat"), ((30, 1, 0), "per_group")])
def test_bad_budgets_are_refused(args: tuple[float, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RateLimiter(*args)


def test_no_platform_second_holds_more_than_the_budget_whatever_the_delays() -> None:
    """The platform counts each send at some moment between its start and its answer; with round trips of
    0.5–30 ms, jittering at random, no second of the platform's clock may count more than 1,000, and the
    budget is still used (a send costs its round trip on top of its second: ≥ 1,000 / 1.03 a second)."""
    rng = random.Random(15)

    async def main() -> tuple[list[float], list[float]]:
        loop = asyncio.get_running_loop()
        limiter = RateLimiter(1000, 1, now=loop.time)
        started: list[float] = []
        counted: list[float] = []

        async def send(n: int) -> None:
            async with limiter.slot(f"chat{n}"):
                round_trip = rng.uniform(0.0005, 0.030)
                started.append(loop.time())
                counted.append(loop.time() + rng.random() * round_trip)
                await asyncio.sleep(round_trip)

        await asyncio.gather(*(send(n) for n in range(5000)))
        return started, counted

    started, counted = run_virtual(main())
    assert most_in_any_window(counted, 1.0) <= 1000
    assert (len(started) - 1) / (started[-1] - started[0]) >= 1000 / 1.03


def test_the_budget_waits_for_sends_still_under_way() -> None:
    """Answers slower than a second: a send under way counts, so a second batch waits for the first."""

    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        limiter = RateLimiter(100, now=loop.time)
        started: list[float] = []

        async def send(n: int) -> None:
            async with limiter.slot(f"chat{n}"):
                started.append(loop.time())
                await asyncio.sleep(3.0)

        await asyncio.gather(*(send(n) for n in range(200)))
        return started

    started = run_virtual(main())
    assert max(started[:100]) < 1.0
    assert min(started[100:]) >= 4.0 - EPS  # the first hundred answered at ≥ 3 s, and count a second more


def test_a_stalled_loop_is_made_up_within_the_platform_limit() -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, VirtualTimeLoop)
        limiter = RateLimiter(1000, 1, now=loop.time)
        times: list[float] = []

        async def send(n: int) -> None:
            async with limiter.slot(f"chat{n}"):
                times.append(loop.time())
                if n % 500 == 250:
                    loop.stall(0.1)  # the process got no CPU for 100 ms

        await asyncio.gather(*(send(n) for n in range(3000)))
        return times

    times = run_virtual(main())
    assert most_in_any_window(times, 1.0) <= 1000
    # Six stalls of 100 ms cost nothing: the schedule is caught up afterwards.
    assert times[-1] - times[0] <= 3000 / 1000 + 0.05


def test_an_idle_budget_gives_no_burst() -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        limiter = RateLimiter(10, now=loop.time)
        async with limiter.slot("a"):
            pass
        await asyncio.sleep(60)  # quiet for a minute: no credit piles up
        times: list[float] = []

        async def send(n: int) -> None:
            async with limiter.slot(f"chat{n}"):
                times.append(loop.time())

        await asyncio.gather(*(send(n) for n in range(20)))
        return times

    times = run_virtual(main())
    assert all(b - a >= 0.1 - EPS for a, b in itertools.pairwise(times))


def test_high_rates_wake_senders_together() -> None:
    async def main() -> list[float]:
        limiter = RateLimiter(1000, now=asyncio.get_running_loop().time)
        return [t for t, _ in await send_all(limiter, [(f"chat{i}", False) for i in range(2000)])]

    times = run_virtual(main())
    # Slots 1 ms apart, wake-ups on 4 ms ticks: a few sends per loop wake-up, not one.
    assert len(set(times)) <= len(times) / 3
