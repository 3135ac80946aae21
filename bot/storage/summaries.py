"""Cached summary bullets per (article, focus)."""

from __future__ import annotations

import json
from datetime import datetime

from bot.storage.db import Database, to_db_time


class SummaryRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, article_id: int, focus_key: str) -> list[str] | None:
        async with self._db.conn.execute(
            "SELECT bullets FROM summaries WHERE article_id = ? AND focus_key = ?", (article_id, focus_key)
        ) as cur:
            row = await cur.fetchone()
        return json.loads(row[0]) if row else None

    async def put(self, article_id: int, focus_key: str, bullets: list[str], now: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO summaries(article_id, focus_key, bullets, created_at) VALUES (?,?,?,?)"
                " ON CONFLICT(article_id, focus_key) DO UPDATE SET bullets = excluded.bullets",
                (article_id, focus_key, json.dumps(bullets, ensure_ascii=False), to_db_time(now)),
            )
