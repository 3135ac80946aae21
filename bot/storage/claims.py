"""Which instance delivers which chat: leases claimed in batches (``FOR UPDATE SKIP LOCKED`` on PostgreSQL).

A chat is delivered by one instance at a time, so its alerts keep their order and none goes out twice;
instances pick different chats without waiting for each other. The delivery worker claims, then works each
chat with :class:`~bot.storage.outbox.OutboxRepository` as before (``waiting_for_chat``, ``mark_sending``,
``mark_sent``), renews while it works and releases when done. A dead instance's chats come free when their
lease runs out; rows it had claimed for a message (``sending``) are the only ones that can go out twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.storage.sql import SqlDatabase, marks, to_db_time

# The dialect piece: PostgreSQL locks the chosen chat rows and skips those another instance is claiming
# right now; SQLite has one writer at a time anyway.
_SKIP_LOCKED = {"sqlite": "", "postgres": " FOR UPDATE OF c SKIP LOCKED"}


class OutboxClaims:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def claim_chats(
        self,
        owner: str,
        now: datetime,
        *,
        limit: int = 50,
        lease: timedelta = timedelta(seconds=60),
        platforms: Sequence[str] | None = None,
    ) -> list[int]:
        """Lease up to ``limit`` active chats with due alerts that no other live instance holds; returns
        their ids (the ones this owner already held are renewed and included). ``platforms`` limits the
        claim to chats this instance can deliver to (an instance without Matrix must not hold Matrix chats)."""
        if platforms is not None and not platforms:
            return []
        stamp, until = to_db_time(now), to_db_time(now + lease)
        only = f" AND c.platform IN ({marks(len(platforms))})" if platforms else ""
        # The upsert's WHERE is the real guard: it sees the newest lease row even when this statement's
        # snapshot is older than another instance's commit.
        sql = (
            f"WITH due AS (SELECT c.id FROM chats c WHERE c.active = 1{only}"
            " AND EXISTS (SELECT 1 FROM outbox o WHERE o.chat_id = c.id"
            " AND o.status IN ('pending', 'failed', 'sending') AND o.next_attempt_at <= ?)"
            " AND NOT EXISTS (SELECT 1 FROM delivery_leases l WHERE l.chat_id = c.id AND l.owner != ?"
            " AND l.expires_at > ?)"
            f" ORDER BY c.id LIMIT ?{_SKIP_LOCKED[self._db.dialect]})"
            " INSERT INTO delivery_leases(chat_id, owner, expires_at) SELECT id, ?, ? FROM due WHERE true"
            " ON CONFLICT(chat_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at"
            " WHERE delivery_leases.owner = excluded.owner OR delivery_leases.expires_at <= ?"
            " RETURNING chat_id"
        )
        async with self._db.transaction() as tx:
            rows = await tx.fetch_all(sql, (*(platforms or ()), stamp, owner, stamp, limit, owner, until, stamp))
        return sorted(int(row[0]) for row in rows)

    async def claim_chat(
        self, owner: str, chat_id: int, now: datetime, *, lease: timedelta = timedelta(seconds=60)
    ) -> bool:
        """Lease one given chat (a digest, the ``digest`` command), due rows or not; False while another live
        instance holds it."""
        async with self._db.transaction() as tx:
            row = await tx.fetch_one(
                "INSERT INTO delivery_leases(chat_id, owner, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT(chat_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at"
                " WHERE delivery_leases.owner = excluded.owner OR delivery_leases.expires_at <= ?"
                " RETURNING chat_id",
                (chat_id, owner, to_db_time(now + lease), to_db_time(now)),
            )
        return row is not None

    async def renew(self, owner: str, chat_ids: Sequence[int], until: datetime) -> list[int]:
        """Extend this owner's leases; returns the chats still held (a lease that ran out and was taken by
        another instance is not returned: stop working that chat)."""
        if not chat_ids:
            return []
        async with self._db.transaction() as tx:
            rows = await tx.fetch_all(
                f"UPDATE delivery_leases SET expires_at = ? WHERE owner = ? AND chat_id IN ({marks(len(chat_ids))})"
                " RETURNING chat_id",
                (to_db_time(until), owner, *chat_ids),
            )
        return sorted(int(row[0]) for row in rows)

    async def release(self, owner: str, chat_ids: Sequence[int]) -> None:
        if not chat_ids:
            return
        async with self._db.transaction() as tx:
            await tx.run(
                f"DELETE FROM delivery_leases WHERE owner = ? AND chat_id IN ({marks(len(chat_ids))})",
                (owner, *chat_ids),
            )

    async def holders(self) -> dict[int, str]:
        """Chat → owner of every lease (for ``db check`` and tests)."""
        rows = await self._db.fetch_all("SELECT chat_id, owner FROM delivery_leases")
        return {int(row[0]): str(row[1]) for row in rows}
