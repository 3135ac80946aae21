"""Send pacing: stay under a platform's rate limits so large fan-outs never trigger flood control.

Telegram allows about 30 messages a second overall, one a second per chat and 20 a minute per group.
:class:`RateLimiter` enforces all three at once:

- sends to one chat go one at a time, in the order they asked (a FIFO lock per chat), which also keeps
  the parts of a split message in order;
- only a chat whose own budget allows a send competes for the shared per-second budget, so a chat with a
  thousand queued messages takes one shared slot a second and never holds up the others;
- :meth:`RateLimiter.pause` (after a 429 / ``M_LIMIT_EXCEEDED``) stops every send for that long.

The shared budget is a schedule of evenly spaced slots, checked against the platform's own rule (at most
``global_per_s`` sends in any second). The check counts a send from the moment it leaves until one second
after its answer came back: the platform counted it somewhere in between, so whatever the network's delay
and jitter, no second of the platform's clock can hold more than the budget (the proof is at
:meth:`RateLimiter._window_ready`). No share of the budget is kept unused against arrival jitter; a send
costs its round trip on top of its second. A short stall of the event loop (a busy machine) is made up
afterwards instead of lost: slots up to ``CATCH_UP_SECONDS`` in the past are still used, and the window
check keeps such a catch-up within the platform's limit. At high rates, waiting senders wake together on
ticks of ``TICK_SECONDS``, so the loop wakes once per few sends rather than once per send.

Time is injected (``now`` and ``sleep``) so tests run on a virtual clock.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType

_GROUP_WINDOW = 60.0
_PRUNE_FLOOR = 1024
_WINDOW = 1.0  # the platform counts sends per second
CATCH_UP_SECONDS = 0.25  # how far behind its schedule the shared budget may run to make up a stall
TICK_SECONDS = 0.004  # waiting senders wake together on these ticks when slots are closer than this


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
        self._window_budget = max(1, math.floor(global_per_s))
        self._global_interval = _WINDOW / min(global_per_s, self._window_budget)
        # For the window check: sends under way, and when the latest ones were answered (oldest first).
        self._in_flight = 0
        self._answered: deque[float] = deque(maxlen=self._window_budget)
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

    def slot(self, chat_id: str, is_group: bool = False) -> _Slot:
        """Hold the right to send one message to ``chat_id``; the send happens inside the ``async with``."""
        return _Slot(self, chat_id, is_group)

    async def _enter(self, chat_id: str, is_group: bool) -> _ChatState:
        state = self._chats.get(chat_id)
        if state is None:
            state = self._chats[chat_id] = _ChatState()
        state.users += 1
        try:
            await state.lock.acquire()
        except BaseException:
            self._leave(state)
            raise
        try:
            await self._wait_turn(state, is_group)
        except BaseException:
            state.lock.release()
            self._leave(state)
            raise
        return state

    def _exit(self, state: _ChatState) -> None:
        # Answered or failed alike: the request may have reached the platform, so it counts a second more.
        self._in_flight -= 1
        self._answered.append(self._now())
        state.lock.release()
        self._leave(state)

    def _leave(self, state: _ChatState) -> None:
        state.users -= 1
        self._prune_if_large()

    async def _wait_turn(self, state: _ChatState, is_group: bool) -> None:
        while True:
            now = self._now()
            ready = max(self._paused_until, self._chat_ready(state, is_group), self._window_ready())
            if ready > now:
                await self._sleep(ready - now)
                continue
            # The chat may send: take the next shared slot. Reserving it before sleeping keeps the
            # shared budget first come, first served among chats that are ready.
            slot_at = self._reserve(now)
            if slot_at > now:
                await self._sleep(self._wake_at(slot_at) - now)
            if await self._window_room():
                break
            # Flood control began while waiting: the reserved slot is void.
        self._in_flight += 1
        self._record(state, is_group, self._now())

    def _reserve(self, now: float) -> float:
        """The next shared slot. One up to ``CATCH_UP_SECONDS`` in the past is used at once (making up a
        stall); an older schedule means the budget was idle, and it starts afresh from now."""
        if self._global_next < now - CATCH_UP_SECONDS:
            self._global_next = now
        slot_at = self._global_next
        self._global_next = slot_at + self._global_interval
        return slot_at

    def _wake_at(self, slot_at: float) -> float:
        if self._global_interval >= TICK_SECONDS:
            return slot_at
        return math.ceil(slot_at / TICK_SECONDS) * TICK_SECONDS

    async def _window_room(self) -> bool:
        """Wait, keeping the reserved slot, until the platform's second has room (only after a catch-up
        filled it); False when flood control began meanwhile."""
        while True:
            now = self._now()
            if self._paused_until > now:
                return False
            ready = self._window_ready()
            if ready <= now:
                return True
            await self._sleep(ready - now)

    def _window_ready(self) -> float:
        """When the platform's one-second count allows the next send.

        The platform counts a send at some moment between its start and its answer. Take any second of
        the platform's clock and, of the sends it counted there, the one that started last, at ``s``: every
        other one was counted after ``s - 1``, so its answer came after ``s - 1`` or is still to come. A
        send may therefore start at ``s`` only while fewer than the budget are under way or were answered
        within the last second; then no second holds more than the budget, whatever the delays."""
        excess = self._in_flight + len(self._answered) - self._window_budget + 1
        if excess <= 0:
            return float("-inf")
        if excess > len(self._answered):
            # The budget is all under way (answers slower than a second): look again shortly.
            return self._now() + TICK_SECONDS
        return self._answered[excess - 1] + _WINDOW

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


class _Slot:
    """``async with limiter.slot(chat)``: a plain class, cheaper per send than a generator-based manager."""

    __slots__ = ("_chat_id", "_is_group", "_limiter", "_state")

    def __init__(self, limiter: RateLimiter, chat_id: str, is_group: bool) -> None:
        self._limiter = limiter
        self._chat_id = chat_id
        self._is_group = is_group
        self._state: _ChatState | None = None

    async def __aenter__(self) -> None:
        self._state = await self._limiter._enter(self._chat_id, self._is_group)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._state is not None:
            self._limiter._exit(self._state)
            self._state = None
