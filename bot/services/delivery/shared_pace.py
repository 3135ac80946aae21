"""The platform's global budget shared by several instances (PostgreSQL), taken from the database in blocks.

One transaction per message would cap a fan-out at what one locked bucket row can do in a second (a few
hundred round trips), far below a paid broadcast's 1,000 messages a second. So an instance takes as many
tokens at once as it has senders waiting (at most a tenth of a second's budget), and hands them out in order.
A token is for its own moment: one not used within ``STALE_SECONDS`` of it is dropped, never saved up, so
tokens an instance took but did not need cost the others a little budget, never the platform's limit.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.storage.store import Storage

BLOCK_SHARE = 0.1  # of a second's budget taken in one transaction at most
STALE_SECONDS = 0.5  # a token older than this (its sender was cancelled, the loop stalled) is dropped


@dataclass(slots=True)
class _Tokens:
    ready_at: deque[float] = field(default_factory=deque)  # loop times from which each taken token may be used
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0  # senders of this process asking for a token now


class SharedPacer:
    """``await pacer.pace(platform, rate)`` before each message: returns when its token's moment has come."""

    def __init__(self, storage: Storage, now: Callable[[], float] | None = None) -> None:
        self._storage = storage
        self._now = now
        self._tokens: dict[str, _Tokens] = {}

    async def pace(self, platform: str, rate: float) -> None:
        tokens = self._tokens.get(platform)
        if tokens is None:  # not setdefault: that would build a lock and a deque for every message
            tokens = self._tokens[platform] = _Tokens()
        tokens.waiting += 1
        try:
            async with tokens.lock:
                ready_at = await self._next(tokens, platform, rate)
        finally:
            tokens.waiting -= 1
        delay = ready_at - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _next(self, tokens: _Tokens, platform: str, rate: float) -> float:
        now = self._clock()
        while tokens.ready_at and tokens.ready_at[0] < now - STALE_SECONDS:
            tokens.ready_at.popleft()
        if not tokens.ready_at:
            count = max(1, min(tokens.waiting, math.floor(rate * BLOCK_SHARE)))
            waits = await self._storage.pacing.reserve_many(f"{platform}.global", rate, max(1.0, rate), count)
            taken = self._clock()
            tokens.ready_at.extend(taken + wait for wait in waits)
        return tokens.ready_at.popleft()

    def _clock(self) -> float:
        return self._now() if self._now is not None else asyncio.get_running_loop().time()
