"""Chats and their preferences (language, time zone, delivery mode, quiet hours)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.models import Chat, ChatKey, Mode
from bot.storage.sql import Row, SqlDatabase, from_db_time, marks, to_db_time

_COLUMNS = (
    "id, platform, chat_id, lang, timezone, mode, digest_time, quiet_start, quiet_end, active, is_group,"
    " title, last_digest_at"
)
_SETTABLE = {"lang", "timezone", "mode", "digest_time", "quiet_start", "quiet_end", "title", "is_group"}


def _row_to_chat(row: Row) -> Chat:
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
    def __init__(self, db: SqlDatabase) -> None:
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
        async with self._db.transaction() as tx:
            await tx.run(
                "INSERT INTO chats(platform, chat_id, lang, is_group, title, created_at) VALUES (?,?,?,?,?,?)"
                " ON CONFLICT(platform, chat_id) DO NOTHING",
                (key.platform, key.chat_id, lang, int(is_group), title, to_db_time(now)),
            )
        chat = await self.get_by_key(key)
        assert chat is not None
        return chat, True

    async def get(self, chat_pk: int) -> Chat | None:
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} FROM chats WHERE id = ?", (chat_pk,))
        return _row_to_chat(row) if row else None

    async def get_by_key(self, key: ChatKey) -> Chat | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM chats WHERE platform = ? AND chat_id = ?", (key.platform, key.chat_id)
        )
        return _row_to_chat(row) if row else None

    async def get_many(self, ids: list[int]) -> dict[int, Chat]:
        found: dict[int, Chat] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = await self._db.fetch_all(f"SELECT {_COLUMNS} FROM chats WHERE id IN ({marks(len(chunk))})", chunk)
            for row in rows:
                found[row["id"]] = _row_to_chat(row)
        return found

    async def update(self, chat_pk: int, **fields: Any) -> Chat:
        unknown = set(fields) - _SETTABLE
        if unknown:
            raise ValueError(f"not settable: {sorted(unknown)}")
        # bool → 0/1: PostgreSQL keeps the flags as integers, as SQLite does.
        values = [v.value if isinstance(v, Mode) else int(v) if isinstance(v, bool) else v for v in fields.values()]
        assignments = ", ".join(f"{name} = ?" for name in fields)
        async with self._db.transaction() as tx:
            await tx.run(f"UPDATE chats SET {assignments} WHERE id = ?", (*values, chat_pk))
        chat = await self.get(chat_pk)
        assert chat is not None
        return chat

    async def set_active(self, chat_pk: int, active: bool) -> None:
        async with self._db.transaction() as tx:
            await tx.run("UPDATE chats SET active = ? WHERE id = ?", (int(active), chat_pk))

    async def set_last_digest(self, chat_pk: int, moment: datetime) -> None:
        async with self._db.transaction() as tx:
            await tx.run("UPDATE chats SET last_digest_at = ? WHERE id = ?", (to_db_time(moment), chat_pk))

    async def move(self, key: ChatKey, new_chat_id: str) -> tuple[Chat, int | None] | None:
        """A migrated chat (Telegram group → supergroup) keeps its row, so subscriptions and outbox follow.
        If the new id already has a row (it wrote to us first), its subscriptions and unsent alerts are merged
        into ours and that row's id is returned as the second value."""
        old = await self.get_by_key(key)
        if old is None:
            return None
        async with self._db.transaction() as tx:
            clash = await tx.fetch_val(
                "SELECT id FROM chats WHERE platform = ? AND chat_id = ?", (key.platform, new_chat_id)
            )
            if clash is not None:
                # Rows whose key ours already has stay behind and go with the deleted chat (what SQLite's
                # UPDATE OR IGNORE did, written so that PostgreSQL runs it too).
                for table, unique in (("subscriptions", "query_key"), ("outbox", "article_id")):
                    await tx.run(
                        f"UPDATE {table} SET chat_id = ? WHERE chat_id = ?"
                        f" AND {unique} NOT IN (SELECT {unique} FROM {table} WHERE chat_id = ?)",
                        (old.id, clash, old.id),
                    )
                await tx.run("DELETE FROM chats WHERE id = ?", (clash,))
            await tx.run("UPDATE chats SET chat_id = ?, active = 1 WHERE id = ?", (new_chat_id, old.id))
        moved = await self.get(old.id)
        assert moved is not None
        return moved, clash

    async def active_chats(self) -> list[Chat]:
        rows = await self._db.fetch_all(f"SELECT {_COLUMNS} FROM chats WHERE active = 1 ORDER BY id")
        return [_row_to_chat(r) for r in rows]

    async def count(self, active_only: bool = True) -> int:
        sql = "SELECT COUNT(*) FROM chats" + (" WHERE active = 1" if active_only else "")
        return int(await self._db.fetch_val(sql) or 0)
