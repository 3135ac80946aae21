"""One lock per chat: a chat is served by one delivery at a time (a pass, or a user's digest command)."""

from __future__ import annotations

import asyncio


class ChatLocks:
    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}

    def lock(self, chat_pk: int) -> asyncio.Lock:
        lock = self._locks.get(chat_pk)
        if lock is None:
            lock = self._locks[chat_pk] = asyncio.Lock()
        return lock

    async def try_acquire(self, chat_pk: int) -> asyncio.Lock | None:
        """The chat's lock, held, if nobody serves the chat now; else None (the next pass takes it).
        Taking a free asyncio lock does not suspend, so nothing slips in between the check and the take."""
        lock = self.lock(chat_pk)
        if lock.locked():
            return None
        await lock.acquire()
        return lock
