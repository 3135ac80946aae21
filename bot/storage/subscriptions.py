"""Subscriptions: a chat's queries, in the order they were added."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.core.models import Subscription
from bot.storage.db import Database, from_db_time, to_db_time


def _row_to_sub(row: aiosqlite.Row) -> Subscription:
    return Subscription(
        id=row["id"],
        chat_id=row["chat_id"],
        query=row["query"],
        created_at=from_db_time(row["created_at"]),  # type: ignore[arg-type]
    )


class SubscriptionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, chat_pk: int, query: str, query_key: str, now: datetime) -> Subscription | None:
        """``None`` when the chat already follows an equivalent query."""
        async with self._db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO subscriptions(chat_id, query, query_key, created_at) VALUES (?,?,?,?)"
                " ON CONFLICT(chat_id, query_key) DO NOTHING",
                (chat_pk, query, query_key, to_db_time(now)),
            )
            new_id = cur.lastrowid if cur.rowcount == 1 else None
        if new_id is None:
            return None
        return await self.get(new_id)

    async def get(self, sub_id: int) -> Subscription | None:
        async with self._db.conn.execute(
            "SELECT id, chat_id, query, created_at FROM subscriptions WHERE id = ?", (sub_id,)
        ) as cur:
            row = await cur.fetchone()
        return _row_to_sub(row) if row else None

    async def by_key(self, chat_pk: int, query_key: str) -> Subscription | None:
        async with self._db.conn.execute(
            "SELECT id, chat_id, query, created_at FROM subscriptions WHERE chat_id = ? AND query_key = ?",
            (chat_pk, query_key),
        ) as cur:
            row = await cur.fetchone()
        return _row_to_sub(row) if row else None

    async def for_chat(self, chat_pk: int) -> list[Subscription]:
        async with self._db.conn.execute(
            "SELECT id, chat_id, query, created_at FROM subscriptions WHERE chat_id = ? ORDER BY id",
            (chat_pk,),
        ) as cur:
            return [_row_to_sub(r) async for r in cur]

    async def count_for_chat(self, chat_pk: int) -> int:
        async with self._db.conn.execute("SELECT COUNT(*) FROM subscriptions WHERE chat_id = ?", (chat_pk,)) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def remove(self, sub_id: int) -> bool:
        async with self._db.transaction() as conn:
            cur = await conn.execute("DELETE FROM subscriptions WHERE id = ?", (sub_id,))
            return cur.rowcount == 1

    async def all_active(self) -> list[Subscription]:
        """Every subscription of an active chat (what the matcher index is built from)."""
        async with self._db.conn.execute(
            "SELECT s.id, s.chat_id, s.query, s.created_at FROM subscriptions s"
            " JOIN chats c ON c.id = s.chat_id WHERE c.active = 1 ORDER BY s.id"
        ) as cur:
            return [_row_to_sub(r) async for r in cur]

    async def count(self) -> int:
        async with self._db.conn.execute("SELECT COUNT(*) FROM subscriptions") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0
