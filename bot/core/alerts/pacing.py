"""Send pacing: stay under a platform's rate limits so large fan-outs never trigger flood control.

Telegram allows about 30 messages a second overall, one a second per chat and 20 a minute per group.
:class:`RateLimiter` enforces all three at once:

- sends to one chat go one at a time, in the order they asked (a FIFO lock per chat), which also keeps
  the parts of a split message in order;
- only a chat whose own budget allows a send competes for the shared per-second budget, so a chat with a
  thousand queued messages takes one shared slot a second and never holds up the others;
- :meth:`RateLimiter.pause` (after a 429 / ``M_LIMIT_EXCEEDED``) stops every send for that long.

Time is injected (``now`` and ``sleep``) so tests run on a virtual clock.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

_GROUP_WINDOW = 60.0
_PRUNE_FLOOR = 1024


@dataclass(slots=True)
class _ChatState:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # tasks inside or waiting for slot(); a state in use is never pruned
    last_send: float | None = None
    window: deque[float] = field(default_factory=deque)  # send times in the last minute (groups)


class RateLimiter:
    """Waits until a send to a chat is allowed under the overall, per-chat and per-group budgets.

    Telegram: ``RateLimiter(30, 1, 20)``, then ``async with limiter.slot(chat_id, is_group): await send()``.
    """

    def __init__(
        self,
        global_per_s: float,
        per_chat_per_s: float | None = None,
        per_group_per_min: int | None = None,
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if global_per_s <= 0:
            raise ValueError(f"global_per_s must be positive, got {global_per_s}")
        if per_chat_per_s is not None and per_chat_per_s <= 0:
            raise ValueError(f"per_chat_per_s must be positive or None, got {per_chat_per_s}")
        if per_group_per_min is not None and per_group_per_min < 1:
            raise ValueError(f"per_group_per_min must be at least 1 or None, got {per_group_per_min}")
        self._global_interval = 1.0 / global_per_s
        self._chat_interval = 1.0 / per_chat_per_s if per_chat_per_s else 0.0
        self._group_budget = per_group_per_min
        self._now = now
        self._sleep = sleep
        self._global_next = float("-inf")  # earliest moment the next shared slot may be used
        self._paused_until = float("-inf")
        self._chats: dict[str, _ChatState] = {}
        self._prune_at = _PRUNE_FLOOR
        self._pruned_at = float("-inf")

    @property
    def paused_until(self) -> float:
        """The moment (on the limiter's clock) until which every send waits; in the past when not paused."""
        return self._paused_until

    def pause(self, seconds: float) -> None:
        """Stop every send for ``seconds`` from now (flood control answered 429 / retry_after)."""
        if seconds <= 0:
            return
        self._paused_until = max(self._paused_until, self._now() + seconds)
        self._global_next = max(self._global_next, self._paused_until)

    @asynccontextmanager
    async def slot(self, chat_id: str, is_group: bool = False) -> AsyncIterator[None]:
        """Hold the right to send one message to ``chat_id``; the send happens inside the block."""
        state = self._chats.get(chat_id)
        if state is None:
            state = self._chats[chat_id] = _ChatState()
        state.users += 1
        try:
            async with state.lock:
                await self._wait_turn(state, is_group)
                yield
        finally:
            state.users -= 1
            self._prune_if_large()

    async def _wait_turn(self, state: _ChatState, is_group: bool) -> None:
        while True:
            now = self._now()
            ready = max(self._paused_until, self._chat_ready(state, is_group))
            if ready > now:
                await self._sleep(ready - now)
                continue
            # The chat may send: take the next shared slot. Reserving it before sleeping keeps the
            # shared budget first come, first served among chats that are ready.
            slot_at = max(now, self._global_next)
            self._global_next = slot_at + self._global_interval
            if slot_at > now:
                await self._sleep(slot_at - now)
                if self._paused_until > self._now():
                    continue  # flood control began while waiting: the reserved slot is void
            break
        self._record(state, is_group, self._now())

    def _chat_ready(self, state: _ChatState, is_group: bool) -> float:
        ready = float("-inf")
        if state.last_send is not None and self._chat_interval:
            ready = state.last_send + self._chat_interval
        if is_group and self._group_budget:
            window = state.window
            while window and len(window) > self._group_budget:
                window.popleft()
            if len(window) >= self._group_budget:
                ready = max(ready, window[-self._group_budget] + _GROUP_WINDOW)
        return ready

    def _record(self, state: _ChatState, is_group: bool, moment: float) -> None:
        state.last_send = moment
        if is_group and self._group_budget:
            state.window.append(moment)
            while len(state.window) > self._group_budget:
                state.window.popleft()

    def _prune_if_large(self) -> None:
        """Forget idle chats whose budgets have recovered, so memory follows active chats, not all chats."""
        now = self._now()
        if len(self._chats) <= _PRUNE_FLOOR:
            return
        # Sweep when the table doubled, or once a minute: O(chats) work, amortised over many sends.
        if len(self._chats) <= self._prune_at and now - self._pruned_at < _GROUP_WINDOW:
            return
        self._pruned_at = now
        horizon = max(self._chat_interval, _GROUP_WINDOW if self._group_budget else 0.0)
        idle = [
            chat_id
            for chat_id, state in self._chats.items()
            if state.users == 0 and (state.last_send is None or now - state.last_send >= horizon)
        ]
        for chat_id in idle:
            del self._chats[chat_id]
        self._prune_at = max(_PRUNE_FLOOR, 2 * len(self._chats))
