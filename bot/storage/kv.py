"""Small durable key/value state for transports (Matrix device id and sync token, …)."""

from __future__ import annotations

from bot.storage.sql import SqlDatabase


class KeyValueRepository:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        value = await self._db.fetch_val("SELECT value FROM kv WHERE key = ?", (key,))
        return str(value) if value is not None else None

    async def set(self, key: str, value: str) -> None:
        async with self._db.transaction() as tx:
            await tx.run(
                "INSERT INTO kv(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    async def delete(self, key: str) -> None:
        async with self._db.transaction() as tx:
            await tx.run("DELETE FROM kv WHERE key = ?", (key,))
