"""Subscriptions: a chat's queries, in the order they were added."""

from __future__ import annotations

from datetime import datetime

from bot.core.models import Subscription
from bot.storage.sql import Row, SqlDatabase, from_db_time, to_db_time


def _row_to_sub(row: Row) -> Subscription:
    return Subscription(
        id=row["id"],
        chat_id=row["chat_id"],
        query=row["query"],
        created_at=from_db_time(row["created_at"]),  # type: ignore[arg-type]
    )


class SubscriptionRepository:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def add(self, chat_pk: int, query: str, query_key: str, now: datetime) -> Subscription | None:
        """``None`` when the chat already follows an equivalent query."""
        async with self._db.transaction() as tx:
            new_id = await tx.fetch_val(
                "INSERT INTO subscriptions(chat_id, query, query_key, created_at) VALUES (?,?,?,?)"
                " ON CONFLICT(chat_id, query_key) DO NOTHING RETURNING id",
                (chat_pk, query, query_key, to_db_time(now)),
            )
        if new_id is None:
            return None
        return await self.get(new_id)

    async def get(self, sub_id: int) -> Subscription | None:
        row = await self._db.fetch_one(
            "SELECT id, chat_id, query, created_at FROM subscriptions WHERE id = ?", (sub_id,)
        )
        return _row_to_sub(row) if row else None

    async def by_key(self, chat_pk: int, query_key: str) -> Subscription | None:
        row = await self._db.fetch_one(
            "SELECT id, chat_id, query, created_at FROM subscriptions WHERE chat_id = ? AND query_key = ?",
            (chat_pk, query_key),
        )
        return _row_to_sub(row) if row else None

    async def for_chat(self, chat_pk: int) -> list[Subscription]:
        rows = await self._db.fetch_all(
            "SELECT id, chat_id, query, created_at FROM subscriptions WHERE chat_id = ? ORDER BY id",
            (chat_pk,),
        )
        return [_row_to_sub(r) for r in rows]

    async def count_for_chat(self, chat_pk: int) -> int:
        return int(await self._db.fetch_val("SELECT COUNT(*) FROM subscriptions WHERE chat_id = ?", (chat_pk,)) or 0)

    async def remove(self, sub_id: int) -> bool:
        async with self._db.transaction() as tx:
            return await tx.run("DELETE FROM subscriptions WHERE id = ?", (sub_id,)) == 1

    async def all_active(self) -> list[Subscription]:
        """Every subscription of an active chat (what the matcher index is built from)."""
        rows = await self._db.fetch_all(
            "SELECT s.id, s.chat_id, s.query, s.created_at FROM subscriptions s"
            " JOIN chats c ON c.id = s.chat_id WHERE c.active = 1 ORDER BY s.id"
        )
        return [_row_to_sub(r) for r in rows]

    async def count(self) -> int:
        return int(await self._db.fetch_val("SELECT COUNT(*) FROM subscriptions") or 0)
