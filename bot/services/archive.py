"""Reading the archive for chats: newest articles, full-text search, and the admin's statistics."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.models import Article
from bot.storage.store import Storage

MAX_SEARCH_CHARS = 200  # longer input is cut, not refused: the first words say what was meant


@dataclass(frozen=True, slots=True)
class ArchiveStats:
    articles: int
    active_chats: int
    subscriptions: int
    outbox: dict[str, int]  # status → rows


class ArchiveService:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def latest(self, limit: int) -> list[Article]:
        return await self._storage.articles.latest(limit)

    async def search(self, text: str, limit: int) -> list[Article]:
        return await self._storage.articles.search(text[:MAX_SEARCH_CHARS], limit)

    async def stats(self) -> ArchiveStats:
        return ArchiveStats(
            articles=await self._storage.articles.count(),
            active_chats=await self._storage.chats.count(),
            subscriptions=await self._storage.subscriptions.count(),
            outbox=await self._storage.outbox.status_counts(),
        )
