"""The delivery outbox: one row per (chat, article), marked sent only after the platform confirmed it.

A fan-out works in batches across chats: :meth:`OutboxRepository.due_for_chats` reads the rows of many chats
in one query, :meth:`~OutboxRepository.claim_many` claims them for their messages in one transaction, and
:meth:`~OutboxRepository.mark_sent` marks many confirmed rows in one transaction. On PostgreSQL the read
becomes ``SELECT … FOR UPDATE SKIP LOCKED`` inside the claiming transaction; the statements stay the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.core.models import OutboxItem, OutboxStatus
from bot.storage.db import Database, from_db_time, to_db_time

_CHUNK = 500  # ids per IN (...) list, well under SQLite's variable limit
_COLUMNS = (
    "id, chat_id, article_id, subscription_id, query, reason, status, attempts, next_attempt_at,"
    " created_at, sent_at, batch"
)


@dataclass(frozen=True, slots=True)
class NewOutboxRow:
    chat_id: int
    article_id: int
    subscription_id: int | None
    query: str
    reason: str


def _time(text: str | None) -> datetime | None:
    """``from_db_time`` at C speed: a fan-out reads thousands of rows, and ``strptime`` was a tenth of its cost.
    The stored form (``…T…Z``) is ISO 8601, which ``fromisoformat`` reads from Python 3.11 on."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return from_db_time(text)


def _row_to_item(row: aiosqlite.Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        chat_id=row["chat_id"],
        article_id=row["article_id"],
        subscription_id=row["subscription_id"],
        query=row["query"],
        reason=row["reason"],
        status=OutboxStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=_time(row["next_attempt_at"]),  # type: ignore[arg-type]
        created_at=_time(row["created_at"]),  # type: ignore[arg-type]
        sent_at=_time(row["sent_at"]),
    )


class OutboxRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def enqueue(self, rows: Sequence[NewOutboxRow], now: datetime, matched: Sequence[int] = ()) -> int:
        """Insert rows and mark the ``matched`` articles done, in one transaction; an existing (chat, article)
        pair is left alone. Returns how many rows were new."""
        stamp = to_db_time(now)
        async with self._db.transaction() as conn:
            await conn.executemany("UPDATE articles SET matched = 1 WHERE id = ?", [(i,) for i in matched])
            before = conn.total_changes
            # A chat deactivated meanwhile (blocked, left) gets nothing new; a subscription removed while the
            # batch was being matched must not fail the whole batch on its foreign key.
            await conn.executemany(
                "INSERT INTO outbox(chat_id, article_id, subscription_id, query, reason, next_attempt_at,"
                " created_at) SELECT ?, ?, (SELECT id FROM subscriptions WHERE id = ?), ?, ?, ?, ?"
                " WHERE EXISTS (SELECT 1 FROM chats WHERE id = ? AND active = 1)"
                " ON CONFLICT(chat_id, article_id) DO NOTHING",
                [
                    (r.chat_id, r.article_id, r.subscription_id, r.query, r.reason, stamp, stamp, r.chat_id)
                    for r in rows
                ],
            )
            return conn.total_changes - before

    async def chats_with_due(self, now: datetime) -> list[int]:
        """Chats (active) that have rows waiting whose retry time has come."""
        async with self._db.conn.execute(
            "SELECT DISTINCT o.chat_id FROM outbox o JOIN chats c ON c.id = o.chat_id"
            " WHERE c.active = 1 AND o.status IN ('pending', 'failed', 'sending') AND o.next_attempt_at <= ?",
            (to_db_time(now),),
        ) as cur:
            return [row[0] for row in await cur.fetchall()]

    async def chats_with_due_retries(self, now: datetime) -> set[int]:
        """Chats with rows whose earlier send failed and whose backoff has run out, in one query."""
        async with self._db.conn.execute(
            "SELECT DISTINCT chat_id FROM outbox WHERE status = 'failed' AND next_attempt_at <= ?",
            (to_db_time(now),),
        ) as cur:
            return {row[0] for row in await cur.fetchall()}

    async def next_retry_at(self, now: datetime) -> datetime | None:
        """The earliest future retry time, so the worker can sleep exactly until then."""
        async with self._db.conn.execute(
            "SELECT MIN(o.next_attempt_at) FROM outbox o JOIN chats c ON c.id = o.chat_id"
            " WHERE c.active = 1 AND o.status IN ('pending', 'failed') AND o.next_attempt_at > ?",
            (to_db_time(now),),
        ) as cur:
            row = await cur.fetchone()
        return from_db_time(row[0]) if row and row[0] else None

    async def waiting_for_chat(self, chat_pk: int, now: datetime | None = None) -> list[OutboxItem]:
        """Unsent rows of a chat, oldest first: in-flight ones (a crash interrupted them) come first."""
        sql = f"SELECT {_COLUMNS} FROM outbox WHERE chat_id = ? AND status IN ('pending', 'failed', 'sending')"
        params: tuple[object, ...] = (chat_pk,)
        if now is not None:
            sql += " AND next_attempt_at <= ?"
            params = (chat_pk, to_db_time(now))
        sql += " ORDER BY (status = 'sending') DESC, batch, id"
        async with self._db.conn.execute(sql, params) as cur:
            return [_row_to_item(r) async for r in cur]

    async def due_for_chats(self, chat_pks: Sequence[int], now: datetime) -> dict[int, list[OutboxItem]]:
        """Due unclaimed rows (pending, or failed with their backoff over) of many chats, oldest first per
        chat: one query per few hundred chats instead of one per chat."""
        found: dict[int, list[OutboxItem]] = {}
        stamp = to_db_time(now)
        for start in range(0, len(chat_pks), _CHUNK):
            chunk = list(chat_pks[start : start + _CHUNK])
            marks = ",".join("?" * len(chunk))
            async with self._db.conn.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE chat_id IN ({marks}) AND status IN ('pending', 'failed')"
                " AND next_attempt_at <= ? ORDER BY chat_id, id",
                [*chunk, stamp],
            ) as cur:
                for row in await cur.fetchall():
                    found.setdefault(row["chat_id"], []).append(_row_to_item(row))
        return found

    async def claim_many(self, claims: Sequence[tuple[Sequence[int], str]]) -> set[int]:
        """Claim the rows of many messages (row ids, batch id) in one transaction, before they go out. Only
        rows still waiting (pending or failed) are taken — not ones claimed, sent or dropped meanwhile; returns
        the ids this call claimed. (PostgreSQL: the SELECT takes ``FOR UPDATE SKIP LOCKED``.)"""
        batches = {i: batch for ids, batch in claims for i in ids}
        if not batches:
            return set()
        async with self._db.transaction() as conn:
            waiting: set[int] = set()
            ids = list(batches)
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                async with conn.execute(
                    f"SELECT id FROM outbox WHERE id IN ({marks}) AND status IN ('pending', 'failed')", chunk
                ) as cur:
                    waiting.update(row[0] for row in await cur.fetchall())
            await conn.executemany(
                "UPDATE outbox SET status = 'sending', batch = ? WHERE id = ?", [(batches[i], i) for i in waiting]
            )
            return waiting

    async def claimed_by_chat(self) -> dict[int, set[int]]:
        """Rows claimed for a message that was never confirmed, per chat: at start, what a crash left in flight."""
        async with self._db.conn.execute("SELECT chat_id, id FROM outbox WHERE status = 'sending'") as cur:
            found: dict[int, set[int]] = {}
            for chat_pk, row_id in await cur.fetchall():
                found.setdefault(chat_pk, set()).add(row_id)
        return found

    async def in_flight_batches(self, chat_pk: int) -> dict[str, list[int]]:
        async with self._db.conn.execute(
            "SELECT batch, id FROM outbox WHERE chat_id = ? AND status = 'sending' ORDER BY id", (chat_pk,)
        ) as cur:
            batches: dict[str, list[int]] = {}
            async for row in cur:
                batches.setdefault(row[0] or f"row-{row[1]}", []).append(row[1])
        return batches

    async def count_waiting(self, chat_pk: int) -> int:
        async with self._db.conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE chat_id = ? AND status IN ('pending', 'failed', 'sending')",
            (chat_pk,),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def give_up(self, ids: Sequence[int], error: str) -> None:
        """The platform refused these for good; kept as 'dropped' with the reason, for the record."""
        async with self._db.transaction() as conn:
            await conn.executemany(
                "UPDATE outbox SET status = 'dropped', attempts = attempts + 1, last_error = ?, batch = NULL"
                " WHERE id = ?",
                [(error[:500], i) for i in ids],
            )

    async def mark_sending(self, ids: Sequence[int], batch: str) -> None:
        """Claim rows for one message before it goes out: after a crash these are the only repeats."""
        async with self._db.transaction() as conn:
            await conn.executemany(
                "UPDATE outbox SET status = 'sending', batch = ? WHERE id = ?", [(batch, i) for i in ids]
            )

    async def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        """Mark confirmed rows sent, any number of them in one transaction (the delivery worker gathers the
        confirmations of many chats into one call)."""
        stamp = to_db_time(now)
        async with self._db.transaction() as conn:
            for start in range(0, len(ids), _CHUNK):
                chunk = list(ids[start : start + _CHUNK])
                marks = ",".join("?" * len(chunk))
                await conn.execute(
                    f"UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE id IN ({marks})",
                    [stamp, *chunk],
                )

    async def mark_failed(self, ids: Sequence[int], error: str, retry_at: datetime) -> None:
        async with self._db.transaction() as conn:
            await conn.executemany(
                "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = ?, batch = NULL WHERE id = ?",
                [(error[:500], to_db_time(retry_at), i) for i in ids],
            )

    async def release(self, ids: Sequence[int]) -> None:
        """Give claimed rows back unsent (e.g. a digest cut at its cap)."""
        async with self._db.transaction() as conn:
            await conn.executemany(
                "UPDATE outbox SET status = 'pending', batch = NULL WHERE id = ?", [(i,) for i in ids]
            )

    async def unsent_for_subscription(self, subscription_id: int) -> list[OutboxItem]:
        async with self._db.conn.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE subscription_id = ? AND status IN ('pending', 'failed') ORDER BY id",
            (subscription_id,),
        ) as cur:
            return [_row_to_item(r) async for r in cur]

    async def reassign_or_drop(self, changes: Sequence[tuple[int, NewOutboxRow | None]]) -> None:
        """After an unsubscribe: rows another subscription of the chat still wants are renamed after it,
        the others are dropped (not wanted any more)."""
        async with self._db.transaction() as conn:
            for row_id, keep in changes:
                if keep is None:
                    await conn.execute("UPDATE outbox SET status = 'dropped' WHERE id = ?", (row_id,))
                else:
                    await conn.execute(
                        "UPDATE outbox SET subscription_id = ?, query = ?, reason = ? WHERE id = ?",
                        (keep.subscription_id, keep.query, keep.reason, row_id),
                    )

    async def drop_chat(self, chat_pk: int) -> int:
        async with self._db.transaction() as conn:
            cur = await conn.execute(
                "UPDATE outbox SET status = 'dropped' WHERE chat_id = ? AND status != 'sent'", (chat_pk,)
            )
            return cur.rowcount

    async def status_counts(self) -> dict[str, int]:
        async with self._db.conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status") as cur:
            return {row[0]: row[1] async for row in cur}

    async def sent_pairs(self) -> set[tuple[int, int]]:
        async with self._db.conn.execute("SELECT chat_id, article_id FROM outbox WHERE status = 'sent'") as cur:
            return {(row[0], row[1]) async for row in cur}

    async def attempts(self, ids: Sequence[int]) -> list[int]:
        marks = ",".join("?" * len(ids))
        async with self._db.conn.execute(f"SELECT attempts FROM outbox WHERE id IN ({marks})", list(ids)) as cur:
            return [row[0] async for row in cur]
