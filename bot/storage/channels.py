"""Channel managers and forum topics: which chats a user manages from a private chat, and the topic rows
(``"<group id>/<thread id>"``) of a group. Portable SQL: the same statements run on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from bot.core.messaging import THREAD_SEPARATOR
from bot.core.models import ChatKey
from bot.storage.sql import SqlDatabase, to_db_time


@dataclass(frozen=True, slots=True)
class Manager:
    """Who manages a channel from their private chat, and the language they read notices in."""

    user_id: str
    lang: str


class ChannelCounts(NamedTuple):
    """Chats that are not ordinary groups or private chats, for ``/stats``."""

    channels: int  # active chats managed from a private chat (Telegram channels)
    topics: int  # active forum topics with a chat row of their own


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class ChannelRepository:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def add_manager(self, chat_pk: int, user_id: str, lang: str, now: datetime) -> None:
        """Record (or refresh the language of) a manager; managing again is not an error."""
        async with self._db.transaction() as tx:
            await tx.run(
                "INSERT INTO channel_managers(chat_id, user_id, lang, added_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(chat_id, user_id) DO UPDATE SET lang = excluded.lang",
                (chat_pk, user_id, lang, to_db_time(now)),
            )

    async def managers(self, chat_pk: int) -> list[Manager]:
        rows = await self._db.fetch_all(
            "SELECT user_id, lang FROM channel_managers WHERE chat_id = ? ORDER BY added_at, user_id", (chat_pk,)
        )
        return [Manager(row["user_id"], row["lang"]) for row in rows]

    async def managed_by(self, platform: str, user_id: str) -> list[int]:
        """Chat row ids the user manages on ``platform``, in the order they were first managed."""
        rows = await self._db.fetch_all(
            "SELECT m.chat_id FROM channel_managers m JOIN chats c ON c.id = m.chat_id"
            " WHERE c.platform = ? AND m.user_id = ? ORDER BY m.added_at, m.chat_id",
            (platform, user_id),
        )
        return [int(row["chat_id"]) for row in rows]

    async def topic_ids(self, key: ChatKey) -> list[int]:
        """Chat row ids of the forum topics of the group ``key``."""
        pattern = _escape_like(key.chat_id + THREAD_SEPARATOR) + "%"
        rows = await self._db.fetch_all(
            "SELECT id FROM chats WHERE platform = ? AND chat_id LIKE ? ESCAPE '\\' ORDER BY id",
            (key.platform, pattern),
        )
        return [int(row["id"]) for row in rows]

    async def counts(self) -> ChannelCounts:
        """Active channels and forum topics (paused ones are not counted, like inactive chats)."""
        channels = await self._db.fetch_val(
            "SELECT COUNT(DISTINCT m.chat_id) FROM channel_managers m JOIN chats c ON c.id = m.chat_id"
            " WHERE c.active = 1"
        )
        topics = await self._db.fetch_val(
            "SELECT COUNT(*) FROM chats WHERE active = 1 AND chat_id LIKE ? ESCAPE '\\'",
            ("%" + _escape_like(THREAD_SEPARATOR) + "_%",),
        )
        return ChannelCounts(int(channels or 0), int(topics or 0))
