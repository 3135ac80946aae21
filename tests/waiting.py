"""Waiting for something another process or task makes true: poll a condition until a deadline.

End-to-end tests watch servers they do not control (Synapse, the Bot API test server, a bot process), so
there is no event to await; the deadline is generous and a miss says what was awaited."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], *, within: float = 30.0, what: str = "", every: float = 0.05
) -> None:
    """Return once ``condition()`` (plain or awaitable) is true; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what or 'the condition'}")
        await asyncio.sleep(every)
