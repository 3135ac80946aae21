"""Channel managers and forum topics: which chats a user manages from a private chat, and the topic rows
(``"<group id>/<thread id>"``) of a group."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.messaging import THREAD_SEPARATOR
from bot.core.models import ChatKey
from bot.storage.db import Database, to_db_time


@dataclass(frozen=True, slots=True)
class Manager:
    user_id: str
    lang: str


@dataclass(frozen=True, slots=True)
class ChannelCounts:
    channels: int  # chats managed from a private chat (Telegram channels)
    topics: int  # forum topics with a chat row of their own


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class ChannelRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_manager(self, chat_pk: int, user_id: str, lang: str, now: datetime) -> None:
        """Record (or refresh the language of) a manager; managing again is not an error."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO channel_managers(chat_id, user_id, lang, added_at) VALUES (?,?,?,?)"
                " ON CONFLICT(chat_id, user_id) DO UPDATE SET lang = excluded.lang",
                (chat_pk, user_id, lang, to_db_time(now)),
            )

    async def managers(self, chat_pk: int) -> list[Manager]:
        async with self._db.conn.execute(
            "SELECT user_id, lang FROM channel_managers WHERE chat_id = ? ORDER BY added_at, user_id", (chat_pk,)
        ) as cur:
            return [Manager(row["user_id"], row["lang"]) async for row in cur]

    async def managed_by(self, platform: str, user_id: str) -> list[int]:
        """Chat row ids the user manages on ``platform``, in the order they were first managed."""
        async with self._db.conn.execute(
            "SELECT m.chat_id FROM channel_managers m JOIN chats c ON c.id = m.chat_id"
            " WHERE c.platform = ? AND m.user_id = ? ORDER BY m.added_at, m.chat_id",
            (platform, user_id),
        ) as cur:
            return [int(row["chat_id"]) async for row in cur]

    async def topic_ids(self, key: ChatKey) -> list[int]:
        """Chat row ids of the forum topics of the group ``key``."""
        pattern = _escape_like(key.chat_id + THREAD_SEPARATOR) + "%"
        async with self._db.conn.execute(
            "SELECT id FROM chats WHERE platform = ? AND chat_id LIKE ? ESCAPE '\\' ORDER BY id",
            (key.platform, pattern),
        ) as cur:
            return [int(row["id"]) async for row in cur]

    async def counts(self) -> ChannelCounts:
        """Active channels and forum topics (paused ones are not counted, like inactive chats)."""
        async with self._db.conn.execute(
            "SELECT COUNT(DISTINCT m.chat_id) FROM channel_managers m JOIN chats c ON c.id = m.chat_id"
            " WHERE c.active = 1"
        ) as cur:
            channels = await cur.fetchone()
        async with self._db.conn.execute(
            "SELECT COUNT(*) FROM chats WHERE active = 1 AND chat_id LIKE ? ESCAPE '\\'",
            ("%" + _escape_like(THREAD_SEPARATOR) + "_%",),
        ) as cur:
            topics = await cur.fetchone()
        return ChannelCounts(int(channels[0]) if channels else 0, int(topics[0]) if topics else 0)
