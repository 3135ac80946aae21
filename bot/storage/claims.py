"""Which instance delivers which chat: leases claimed in batches (``FOR UPDATE SKIP LOCKED`` on PostgreSQL).

A chat is delivered by one instance at a time, so its alerts keep their order and none goes out twice;
instances pick different chats without waiting for each other. The delivery worker claims, then works each
chat with :class:`~bot.storage.outbox.OutboxRepository` as before (``waiting_for_chat``, ``mark_sending``,
``mark_sent``), renews while it works and releases when done. A dead instance's chats come free when their
lease runs out; rows it had claimed for a message (``sending``) are the only ones that can go out twice.

Lock order (PostgreSQL): every statement that changes several leases locks them in ``chat_id`` order, and the
claim locks its chat rows ``FOR NO KEY UPDATE``, which does not conflict with the ``FOR KEY SHARE`` lock the
foreign-key check of every insert into ``delivery_leases`` or ``outbox`` takes on its chat. With ``FOR
UPDATE`` a batch claim and a one-chat claim (``/digest``) could deadlock: the digest's lease row was inserted
and its foreign-key check (run at the end of the statement) waited for the batch's chat lock, while the batch
waited for the digest's uncommitted lease row. Should PostgreSQL still pick one of these single-statement
transactions as a deadlock victim, it is run again (:func:`_retrying`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from bot.storage.sql import Row, SqlDatabase, StorageError, marks, to_db_time

log = logging.getLogger(__name__)

T = TypeVar("T")

# The dialect pieces. PostgreSQL locks the chosen chat rows and skips those another instance is claiming
# right now (NO KEY: foreign-key checks on the chat are not blocked, see above); SQLite has one writer at a
# time anyway. Leases changed by several-row statements are locked in chat order first.
_SKIP_LOCKED = {"sqlite": "", "postgres": " FOR NO KEY UPDATE OF c SKIP LOCKED"}
_LOCK_IN_ORDER = {"sqlite": "", "postgres": " FOR UPDATE"}
_DEADLOCK = "40P01"  # SQLSTATE deadlock_detected
_DEADLOCK_TRIES = 3


async def _retrying(statement: Callable[[], Awaitable[T]]) -> T:
    """Run a one-statement lease transaction, again if PostgreSQL chose it as a deadlock victim (it was
    rolled back whole, so running it again is safe)."""
    for attempt in range(1, _DEADLOCK_TRIES + 1):
        try:
            return await statement()
        except StorageError as exc:
            if getattr(exc, "sqlstate", None) != _DEADLOCK or attempt == _DEADLOCK_TRIES:
                raise
            log.warning("delivery leases: deadlock victim (attempt %d), running the statement again", attempt)
            await asyncio.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


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
        # snapshot is older than another instance's commit. Rows are inserted in chat order (lock order).
        sql = (
            f"WITH due AS (SELECT c.id FROM chats c WHERE c.active = 1{only}"
            " AND EXISTS (SELECT 1 FROM outbox o WHERE o.chat_id = c.id"
            " AND o.status IN ('pending', 'failed', 'sending') AND o.next_attempt_at <= ?)"
            " AND NOT EXISTS (SELECT 1 FROM delivery_leases l WHERE l.chat_id = c.id AND l.owner != ?"
            " AND l.expires_at > ?)"
            f" ORDER BY c.id LIMIT ?{_SKIP_LOCKED[self._db.dialect]})"
            " INSERT INTO delivery_leases(chat_id, owner, expires_at) SELECT id, ?, ? FROM due WHERE true"
            " ORDER BY id"
            " ON CONFLICT(chat_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at"
            " WHERE delivery_leases.owner = excluded.owner OR delivery_leases.expires_at <= ?"
            " RETURNING chat_id"
        )
        params = (*(platforms or ()), stamp, owner, stamp, limit, owner, until, stamp)
        return await _retrying(lambda: self._chat_ids(sql, params))

    async def claim_chat(
        self, owner: str, chat_id: int, now: datetime, *, lease: timedelta = timedelta(seconds=60)
    ) -> bool:
        """Lease one given chat (a digest, the ``digest`` command), due rows or not; False while another live
        instance holds it."""
        sql = (
            "INSERT INTO delivery_leases(chat_id, owner, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT(chat_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at"
            " WHERE delivery_leases.owner = excluded.owner OR delivery_leases.expires_at <= ?"
            " RETURNING chat_id"
        )
        params = (chat_id, owner, to_db_time(now + lease), to_db_time(now))
        return bool(await _retrying(lambda: self._chat_ids(sql, params)))

    async def renew(self, owner: str, chat_ids: Sequence[int], until: datetime) -> list[int]:
        """Extend this owner's leases; returns the chats still held (a lease that ran out and was taken by
        another instance is not returned: stop working that chat)."""
        if not chat_ids:
            return []
        sql = (
            f"UPDATE delivery_leases SET expires_at = ? WHERE chat_id IN ({self._owned_in_order(len(chat_ids))})"
            " RETURNING chat_id"
        )
        params = (to_db_time(until), owner, *chat_ids)
        return await _retrying(lambda: self._chat_ids(sql, params))

    async def release(self, owner: str, chat_ids: Sequence[int]) -> None:
        if not chat_ids:
            return
        sql = f"DELETE FROM delivery_leases WHERE chat_id IN ({self._owned_in_order(len(chat_ids))}) RETURNING chat_id"
        await _retrying(lambda: self._chat_ids(sql, (owner, *chat_ids)))

    def _owned_in_order(self, count: int) -> str:
        """The owner's leases among ``count`` chat ids, locked in chat order on PostgreSQL (a plain ``IN``
        would lock them in whatever order the scan meets them)."""
        return (
            f"SELECT chat_id FROM delivery_leases WHERE owner = ? AND chat_id IN ({marks(count)})"
            f" ORDER BY chat_id{_LOCK_IN_ORDER[self._db.dialect]}"
        )

    async def _chat_ids(self, sql: str, params: tuple[object, ...]) -> list[int]:
        """One statement in a transaction of its own; the chat ids it returned, sorted."""
        async with self._db.transaction() as tx:
            rows: list[Row] = await tx.fetch_all(sql, params)
        return sorted(int(row[0]) for row in rows)

    async def holders(self) -> dict[int, str]:
        """Chat → owner of every lease (for ``db check`` and tests)."""
        rows = await self._db.fetch_all("SELECT chat_id, owner FROM delivery_leases")
        return {int(row[0]): str(row[1]) for row in rows}
