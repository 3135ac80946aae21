"""Chats and their preferences (language, time zone, delivery mode, quiet hours)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite

from bot.core.models import Chat, ChatKey, Mode
from bot.storage.db import Database, from_db_time, to_db_time

_COLUMNS = (
    "id, platform, chat_id, lang, timezone, mode, digest_time, quiet_start, quiet_end, active, is_group,"
    " title, last_digest_at"
)
_SETTABLE = {"lang", "timezone", "mode", "digest_time", "quiet_start", "quiet_end", "title", "is_group"}


def _row_to_chat(row: aiosqlite.Row) -> Chat:
    return Chat(
        id=row["id"],
        platform=row["platform"],
        chat_id=row["chat_id"],
        lang=row["lang"],
        timezone=row["timezone"],
        mode=Mode(row["mode"]),
        digest_time=row["digest_time"],
        quiet_start=row["quiet_start"],
        quiet_end=row["quiet_end"],
        active=bool(row["active"]),
        is_group=bool(row["is_group"]),
        title=row["title"],
        last_digest_at=from_db_time(row["last_digest_at"]),
    )


class ChatRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_or_create(
        self, key: ChatKey, now: datetime, *, lang: str = "en", is_group: bool = False, title: str | None = None
    ) -> tuple[Chat, bool]:
        """The chat, reactivated if it had been deactivated; ``created`` tells whether it is new."""
        existing = await self.get_by_key(key)
        if existing is not None:
            if not existing.active:
                await self.set_active(existing.id, True)
                existing = await self.get(existing.id)
            return existing, False  # type: ignore[return-value]
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO chats(platform, chat_id, lang, is_group, title, created_at) VALUES (?,?,?,?,?,?)"
                " ON CONFLICT(platform, chat_id) DO NOTHING",
                (key.platform, key.chat_id, lang, int(is_group), title, to_db_time(now)),
            )
        chat = await self.get_by_key(key)
        assert chat is not None
        return chat, True

    async def get(self, chat_pk: int) -> Chat | None:
        async with self._db.conn.execute(f"SELECT {_COLUMNS} FROM chats WHERE id = ?", (chat_pk,)) as cur:
            row = await cur.fetchone()
        return _row_to_chat(row) if row else None

    async def get_by_key(self, key: ChatKey) -> Chat | None:
        async with self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM chats WHERE platform = ? AND chat_id = ?", (key.platform, key.chat_id)
        ) as cur:
            row = await cur.fetchone()
        return _row_to_chat(row) if row else None

    async def get_many(self, ids: list[int]) -> dict[int, Chat]:
        found: dict[int, Chat] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            async with self._db.conn.execute(f"SELECT {_COLUMNS} FROM chats WHERE id IN ({marks})", chunk) as cur:
                async for row in cur:
                    found[row["id"]] = _row_to_chat(row)
        return found

    async def update(self, chat_pk: int, **fields: Any) -> Chat:
        unknown = set(fields) - _SETTABLE
        if unknown:
            raise ValueError(f"not settable: {sorted(unknown)}")
        values = [v.value if isinstance(v, Mode) else v for v in fields.values()]
        assignments = ", ".join(f"{name} = ?" for name in fields)
        async with self._db.transaction() as conn:
            await conn.execute(f"UPDATE chats SET {assignments} WHERE id = ?", (*values, chat_pk))
        chat = await self.get(chat_pk)
        assert chat is not None
        return chat

    async def set_active(self, chat_pk: int, active: bool) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("UPDATE chats SET active = ? WHERE id = ?", (int(active), chat_pk))

    async def set_last_digest(self, chat_pk: int, moment: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("UPDATE chats SET last_digest_at = ? WHERE id = ?", (to_db_time(moment), chat_pk))

    async def move(self, key: ChatKey, new_chat_id: str) -> tuple[Chat, int | None] | None:
        """A migrated chat (Telegram group → supergroup) keeps its row, so subscriptions and outbox follow.
        If the new id already has a row (it wrote to us first), its subscriptions and unsent alerts are merged
        into ours and that row's id is returned as the second value."""
        old = await self.get_by_key(key)
        if old is None:
            return None
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT id FROM chats WHERE platform = ? AND chat_id = ?", (key.platform, new_chat_id)
            ) as cur:
                clash = await cur.fetchone()
            if clash is not None:
                for table in ("subscriptions", "outbox"):
                    await conn.execute(
                        f"UPDATE OR IGNORE {table} SET chat_id = ? WHERE chat_id = ?", (old.id, clash["id"])
                    )
                await conn.execute("DELETE FROM chats WHERE id = ?", (clash["id"],))
            await conn.execute("UPDATE chats SET chat_id = ?, active = 1 WHERE id = ?", (new_chat_id, old.id))
        moved = await self.get(old.id)
        assert moved is not None
        return moved, (clash["id"] if clash is not None else None)

    async def active_chats(self) -> list[Chat]:
        async with self._db.conn.execute(f"SELECT {_COLUMNS} FROM chats WHERE active = 1 ORDER BY id") as cur:
            return [_row_to_chat(r) async for r in cur]

    async def count(self, active_only: bool = True) -> int:
        sql = "SELECT COUNT(*) FROM chats" + (" WHERE active = 1" if active_only else "")
        async with self._db.conn.execute(sql) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0
