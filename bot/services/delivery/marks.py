"""Group commit of 'sent' marks: the confirmations of many chats share one transaction.

A sender that got the platform's confirmation waits here until its rows are marked, so the rows confirmed
but not yet marked never exceed the messages in flight (what a crash may repeat stays bounded by the
concurrency). The writer waits briefly for more confirmations while other sends are still in flight — until
``batch`` rows gathered, no send is in flight any more, or ``LINGER_SECONDS`` passed — so a fan-out pays one
commit per batch of messages instead of one per message, and a lone alert is marked at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.core.clock import Clock
from bot.storage.store import Storage

log = logging.getLogger(__name__)

LINGER_SECONDS = 0.02  # the longest a confirmed row waits for companions before its mark is written


class SentMarks:
    def __init__(self, storage: Storage, clock: Clock, *, batch: int) -> None:
        self._storage = storage
        self._clock = clock
        self._batch = max(1, batch)
        self._in_flight = 0  # sends begun whose outcome is not known yet
        self._pending: list[int] = []
        self._written: asyncio.Future[None] | None = None  # resolves when ``_pending`` is marked
        self._progress = asyncio.Event()  # a confirmation arrived or a send ended
        self._flusher: asyncio.Task[None] | None = None
        self._unmarked: set[int] = set()  # confirmed by the platform, the mark failed: retried, never resent

    def begin(self) -> None:
        """One message's send began: while sends are in flight, the writer waits for their confirmations.
        (Two plain calls around the send, not a context manager: this runs once per message of a fan-out.)"""
        self._in_flight += 1

    def end(self) -> None:
        """The send begun with :meth:`begin` ended, whatever its outcome."""
        self._in_flight -= 1
        self._progress.set()

    async def confirm(self, ids: list[int]) -> None:
        """Record that the platform confirmed ``ids``; returns once the mark is written (or failed and is
        remembered for a retry: the rows are never sent again either way)."""
        self._pending.extend(ids)
        if self._written is None:
            self._written = asyncio.get_running_loop().create_future()
        written = self._written
        self._progress.set()
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush(), name="outbox-sent-marks")
        await asyncio.shield(written)

    async def _flush(self) -> None:
        try:
            while self._pending:
                await self._gather()
                ids, written = self._pending, self._written
                self._pending, self._written = [], None
                try:
                    await self._write(ids)
                finally:  # even when cancelled at shutdown: no sender waits forever
                    if written is not None and not written.done():
                        written.set_result(None)
        finally:
            self._flusher = None

    async def _gather(self) -> None:
        """Wait (at most the linger time) while more confirmations may join this commit."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LINGER_SECONDS
        while len(self._pending) < self._batch and self._in_flight > 0:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await self._progress.wait()

    async def _write(self, ids: list[int]) -> None:
        try:
            await self._storage.outbox.mark_sent(ids, self._clock.now())
        except BaseException as exc:  # delivered: remember it, so the mark is retried and the send never is
            log.warning("delivered, but marking %d alert(s) sent failed: %s", len(ids), exc or type(exc).__name__)
            self._unmarked.update(ids)
            if not isinstance(exc, Exception):
                raise

    async def retry_unmarked(self) -> None:
        """Write the 'sent' marks an earlier failure left unwritten."""
        if not self._unmarked:
            return
        ids = sorted(self._unmarked)
        try:
            await self._storage.outbox.mark_sent(ids, self._clock.now())
        except Exception as exc:
            log.warning("still cannot mark %d delivered alert(s) as sent: %s", len(ids), exc)
            return
        self._unmarked.difference_update(ids)
