"""Delivery across instances: which chats this instance may deliver now, and the shared global rate.

On SQLite there is one process: every due chat is ours and the in-process rate limiters are the whole story
(:class:`LocalDelivery`, the old path, no extra queries). On PostgreSQL several instances share one outbox
(:class:`SharedDelivery`): a pass leases its chats (``storage.claims``: one instance per chat at a time, so
per-chat order holds and no row is sent by two instances), renews the leases while it works and releases
them at the end; before each message a token comes from the database's bucket (``storage.pacing``, taken in
blocks by :mod:`.shared_pace`), so the platform's global limit is shared by the instances instead of multiplied
by their number.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timedelta

from bot.core.clock import Clock
from bot.services.delivery.shared_pace import SharedPacer
from bot.storage.store import Storage

log = logging.getLogger(__name__)

# Renewed every third of it while a pass runs, so only a dead (or stalled) instance loses its chats; short, so
# the chats of an instance that died are delivered by the others within seconds.
LEASE = timedelta(seconds=15)
CLAIM_LIMIT = 256  # chats leased per pass: a fan-out is shared out in such slices among the instances
SHARED_POLL_SECONDS = 2.0  # other instances' new rows do not kick this one: look this often


def instance_name() -> str:
    """Unique per process and start (a restarted process must not inherit a dead one's leases)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class LocalDelivery:
    """One process: every due chat is this one's; pacing stays in the process."""

    shared = False
    poll_seconds: float | None = None

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def claim(self, now: datetime, platforms: Iterable[str]) -> list[int]:
        return await self._storage.outbox.chats_with_due(now)

    @contextlib.asynccontextmanager
    async def holding(self, chat_id: int, clock: Clock, wait_seconds: float) -> AsyncIterator[bool]:
        yield True

    async def release(self, chat_ids: Iterable[int]) -> None:
        return None

    @contextlib.asynccontextmanager
    async def renewing(self) -> AsyncIterator[None]:
        yield

    async def pace(self, platform: str, rate: float) -> None:
        return None

    async def close(self) -> None:
        return None


class SharedDelivery:
    """Several instances on one PostgreSQL outbox: leased chats, one global token bucket per platform."""

    shared = True
    poll_seconds: float | None = SHARED_POLL_SECONDS

    def __init__(self, storage: Storage, clock: Clock, owner: str | None = None, lease: timedelta = LEASE) -> None:
        self._storage = storage
        self._clock = clock
        self.owner = owner or instance_name()
        self._lease = lease
        # How many holders in this process (a pass, a digest) each leased chat has: the lease is given back
        # when the last one is done, never under a digest that is still sending.
        self._held: Counter[int] = Counter()
        self._claiming = asyncio.Lock()
        self.newly_held: list[int] = []  # of the last claim: chats no pass or digest of this process held
        self._pacer = SharedPacer(storage)

    async def claim(self, now: datetime, platforms: Iterable[str]) -> list[int]:
        # One claim at a time per process: two passes of this instance (the worker's and a flush) must not
        # skip each other's locked rows (SKIP LOCKED) and miss a chat this instance is delivering.
        async with self._claiming:
            chats = await self._storage.claims.claim_chats(
                self.owner, now, limit=CLAIM_LIMIT, lease=self._lease, platforms=sorted(platforms)
            )
        self.newly_held = [c for c in chats if self._held[c] == 0]
        self._held.update(chats)  # a chat this instance already held is returned again: one more holder
        return chats

    @contextlib.asynccontextmanager
    async def holding(self, chat_id: int, clock: Clock, wait_seconds: float) -> AsyncIterator[bool]:
        """Lease one chat for a delivery outside a pass (a digest); waits up to ``wait_seconds`` while
        another instance is delivering it. Yields whether this instance holds it."""
        held = await self._claim_one(chat_id, clock, wait_seconds)
        try:
            yield held
        finally:
            if held:
                await self.release([chat_id])

    async def _claim_one(self, chat_id: int, clock: Clock, wait_seconds: float) -> bool:
        if self._held[chat_id] > 0:
            self._held[chat_id] += 1
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while True:
            if await self._storage.claims.claim_chat(self.owner, chat_id, clock.now(), lease=self._lease):
                self._held[chat_id] += 1
                return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.5)

    async def release(self, chat_ids: Iterable[int]) -> None:
        done: list[int] = []
        for chat in chat_ids:
            if self._held[chat] > 0:
                self._held[chat] -= 1
            if self._held[chat] <= 0:
                del self._held[chat]
                done.append(chat)
        await self._storage.claims.release(self.owner, done)

    @contextlib.asynccontextmanager
    async def renewing(self) -> AsyncIterator[None]:
        """Keep this instance's leases alive while a long pass (a big fan-out, a slow platform) runs."""
        task = asyncio.create_task(self._renew_forever(), name="delivery-lease-renewal")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            if not self._held:
                continue
            try:
                kept = await self._storage.claims.renew(self.owner, sorted(self._held), self._clock.now() + self._lease)
            except Exception:  # the next pass claims again; a lease that ran out is the only cost
                log.exception("delivery: could not renew chat leases")
                continue
            lost = self._held.keys() - set(kept)  # _held is a Counter: no set methods of its own
            if lost:  # taken by another instance after this one stalled past the lease: it delivers them now
                log.warning("delivery: %d chat lease(s) ran out and went to another instance", len(lost))

    async def pace(self, platform: str, rate: float) -> None:
        """Wait for this message's slot in the platform's global budget, shared by every instance."""
        await self._pacer.pace(platform, rate)

    async def close(self) -> None:
        if self._held:
            held, self._held = list(self._held), Counter()
            with contextlib.suppress(Exception):  # the database may be gone; the leases then simply run out
                await self._storage.claims.release(self.owner, held)


def delivery_instances(storage: Storage, clock: Clock) -> LocalDelivery | SharedDelivery:
    """Shared on PostgreSQL (several instances may run), local on SQLite (one process)."""
    if storage.db.dialect == "postgres":
        return SharedDelivery(storage, clock)
    return LocalDelivery(storage)
