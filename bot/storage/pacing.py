"""Token buckets in the database, so every instance draws from the same global rate limit."""

from __future__ import annotations

import time

from bot.storage.sql import SqlDatabase

# The dialect piece: on PostgreSQL the bucket row is locked for the read-modify-write and the time is the
# database's (instances' clocks may differ); SQLite's single writer already serialises the update.
_LOCK_ROW = {"sqlite": "", "postgres": " FOR UPDATE"}
_DB_NOW = {"sqlite": None, "postgres": "SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8"}


class PacingRepository:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def reserve(self, name: str, rate: float, burst: float, now: float | None = None) -> float:
        """Take one token from bucket ``name`` (``rate`` tokens/s, at most ``burst`` saved up); returns how
        many seconds the caller must wait before sending (0 when a token was there). The token is reserved
        either way, so waiting callers queue up fairly instead of retrying."""
        return (await self.reserve_many(name, rate, burst, 1, now))[0]

    async def reserve_many(
        self, name: str, rate: float, burst: float, count: int, now: float | None = None
    ) -> tuple[float, ...]:
        """Take ``count`` tokens in one transaction; for each, the seconds until it may be used (the bucket
        fills at ``rate``: the k-th token missing comes k / ``rate`` seconds later)."""
        if rate <= 0 or burst < 1 or count < 1:
            raise ValueError("rate must be positive, burst at least 1 and count at least 1")
        async with self._db.transaction() as tx:
            query = _DB_NOW[self._db.dialect]
            if now is None:
                now = float(await tx.fetch_val(query)) if query else time.time()
            await tx.run(
                "INSERT INTO pacing(name, tokens, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO NOTHING",
                (name, float(burst), now),
            )
            row = await tx.fetch_one(
                f"SELECT tokens, updated_at FROM pacing WHERE name = ?{_LOCK_ROW[self._db.dialect]}", (name,)
            )
            assert row is not None
            before = min(float(burst), float(row[0]) + max(0.0, now - float(row[1])) * rate)
            await tx.run(
                "UPDATE pacing SET tokens = ?, updated_at = ? WHERE name = ?",
                (before - count, max(now, float(row[1])), name),
            )
        return tuple(max(0.0, (k - before) / rate) for k in range(1, count + 1))
