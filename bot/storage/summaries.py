"""Cached summary bullets per (article, focus)."""

from __future__ import annotations

import json
from datetime import datetime

from bot.storage.sql import SqlDatabase, to_db_time


class SummaryRepository:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def get(self, article_id: int, focus_key: str) -> list[str] | None:
        bullets = await self._db.fetch_val(
            "SELECT bullets FROM summaries WHERE article_id = ? AND focus_key = ?", (article_id, focus_key)
        )
        return json.loads(bullets) if bullets is not None else None

    async def put(self, article_id: int, focus_key: str, bullets: list[str], now: datetime) -> None:
        async with self._db.transaction() as tx:
            await tx.run(
                "INSERT INTO summaries(article_id, focus_key, bullets, created_at) VALUES (?,?,?,?)"
                " ON CONFLICT(article_id, focus_key) DO UPDATE SET bullets = excluded.bullets",
                (article_id, focus_key, json.dumps(bullets, ensure_ascii=False), to_db_time(now)),
            )
