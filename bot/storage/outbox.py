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
from functools import lru_cache

from bot.core.models import OutboxItem, OutboxStatus
from bot.core.trends.series import ArticleMentions
from bot.storage.articles import processed_statements
from bot.storage.batches import flat, padded_chunks, values_list
from bot.storage.sql import Row, SqlDatabase, Statement, from_db_time, marks, to_db_time
from bot.storage.trends import mention_statements

_CHUNK = 500  # ids per IN (...) list, well under SQLite's variable limit
_COLUMNS = (
    "id, chat_id, article_id, subscription_id, query, reason, status, attempts, next_attempt_at,"
    " created_at, sent_at, batch"
)


@dataclass(slots=True, unsafe_hash=True)  # built per imported article: not frozen (see bot.core.models)
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


def _row_to_item(row: Row) -> OutboxItem:
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
        batch=row["batch"],
    )


# A chat deactivated meanwhile (blocked, left) gets nothing new; a subscription removed while the batch was
# being matched must not fail the whole batch on its foreign key.
@lru_cache(maxsize=16)
def _insert_sqlite_sql(rows: int) -> str:
    """Multi-row insert of ``rows`` outbox rows (one of the few sizes of
    :func:`~bot.storage.batches.padded_chunks`): the VALUES list is the outer loop of the join, so rows are
    inserted in the order given (row ids keep the delivery order), and a repeated (chat, article) keeps its
    first row, as one statement per row did."""
    return (
        "INSERT INTO outbox(chat_id, article_id, subscription_id, query, reason, next_attempt_at, created_at)"
        " SELECT v.column1, v.column2, s.id, v.column4, v.column5, ?, ?"
        f" FROM (VALUES {values_list(5, rows)}) AS v LEFT JOIN subscriptions s ON s.id = v.column3"
        " WHERE EXISTS (SELECT 1 FROM chats c WHERE c.id = v.column1 AND c.active = 1)"
        " ON CONFLICT(chat_id, article_id) DO NOTHING"
    )


def _new_rows_sqlite(rows: Sequence[NewOutboxRow], stamp: str) -> list[Statement]:
    return [
        (
            _insert_sqlite_sql(len(chunk)),
            [stamp, stamp, *flat([(r.chat_id, r.article_id, r.subscription_id, r.query, r.reason) for r in chunk])],
        )
        for chunk in padded_chunks(rows)
    ]


def _new_rows_postgres(rows: Sequence[NewOutboxRow], stamp: str) -> list[Statement]:
    # One statement over arrays: typed columns (a bare parameter in a SELECT list would be text) and the
    # count of new rows from its command tag, which executemany does not give.
    if not rows:
        return []
    sql = (
        "INSERT INTO outbox(chat_id, article_id, subscription_id, query, reason, next_attempt_at, created_at)"
        " SELECT r.chat_id, r.article_id, s.id, r.query, r.reason, ?, ?"
        " FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::text[])"
        " AS r(chat_id, article_id, subscription_id, query, reason)"
        " LEFT JOIN subscriptions s ON s.id = r.subscription_id"
        " WHERE EXISTS (SELECT 1 FROM chats c WHERE c.id = r.chat_id AND c.active = 1)"
        " ON CONFLICT(chat_id, article_id) DO NOTHING"
    )
    return [
        (
            sql,
            (
                stamp,
                stamp,
                [r.chat_id for r in rows],
                [r.article_id for r in rows],
                [r.subscription_id for r in rows],
                [r.query for r in rows],
                [r.reason for r in rows],
            ),
        )
    ]


_NEW_ROWS = {"sqlite": _new_rows_sqlite, "postgres": _new_rows_postgres}  # the insert of new rows, as statements

# Rows claimed for a message are locked on PostgreSQL, so a second instance skips them instead of waiting.
_CLAIM_LOCK = {"sqlite": "", "postgres": " FOR UPDATE SKIP LOCKED"}


class OutboxRepository:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def enqueue(
        self,
        rows: Sequence[NewOutboxRow],
        now: datetime,
        matched: Sequence[int] = (),
        mentions: Sequence[ArticleMentions] = (),
    ) -> int:
        """Insert rows, store the ``mentions`` the match scan found and mark the ``matched`` articles done
        (and those with mentions indexed), in one transaction: an article marked matched has its alerts and
        its mentions stored, or none of it is. An existing (chat, article) pair is left alone. Returns how
        many rows were new."""
        inserts = _NEW_ROWS[self._db.dialect](rows, to_db_time(now))
        # every statement is known before the transaction starts: SQLite sends them as one trip
        changed = await self._db.run_all(
            mention_statements(mentions) + processed_statements(matched, [m.article_id for m in mentions]) + inserts
        )
        return sum(changed[len(changed) - len(inserts) :])

    async def chats_with_due(self, now: datetime) -> list[int]:
        """Chats (active) that have rows waiting whose retry time has come."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT o.chat_id FROM outbox o JOIN chats c ON c.id = o.chat_id"
            " WHERE c.active = 1 AND o.status IN ('pending', 'failed', 'sending') AND o.next_attempt_at <= ?",
            (to_db_time(now),),
        )
        return [row[0] for row in rows]

    async def chats_with_due_retries(self, now: datetime) -> set[int]:
        """Chats with rows whose earlier send failed and whose backoff has run out, in one query."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT chat_id FROM outbox WHERE status = 'failed' AND next_attempt_at <= ?",
            (to_db_time(now),),
        )
        return {row[0] for row in rows}

    async def next_retry_at(self, now: datetime) -> datetime | None:
        """The earliest future retry time, so the worker can sleep exactly until then."""
        earliest = await self._db.fetch_val(
            "SELECT MIN(o.next_attempt_at) FROM outbox o JOIN chats c ON c.id = o.chat_id"
            " WHERE c.active = 1 AND o.status IN ('pending', 'failed') AND o.next_attempt_at > ?",
            (to_db_time(now),),
        )
        return from_db_time(earliest) if earliest else None

    async def waiting_for_chat(self, chat_pk: int, now: datetime | None = None) -> list[OutboxItem]:
        """Unsent rows of a chat, oldest first: in-flight ones (a crash interrupted them) come first."""
        sql = f"SELECT {_COLUMNS} FROM outbox WHERE chat_id = ? AND status IN ('pending', 'failed', 'sending')"
        params: tuple[object, ...] = (chat_pk,)
        if now is not None:
            sql += " AND next_attempt_at <= ?"
            params = (chat_pk, to_db_time(now))
        sql += " ORDER BY (status = 'sending') DESC, batch, id"
        return [_row_to_item(r) for r in await self._db.fetch_all(sql, params)]

    async def due_for_chats(self, chat_pks: Sequence[int], now: datetime) -> dict[int, list[OutboxItem]]:
        """Due unclaimed rows (pending, or failed with their backoff over) of many chats, oldest first per
        chat: one query per few hundred chats instead of one per chat."""
        found: dict[int, list[OutboxItem]] = {}
        stamp = to_db_time(now)
        for start in range(0, len(chat_pks), _CHUNK):
            chunk = list(chat_pks[start : start + _CHUNK])
            rows = await self._db.fetch_all(
                f"SELECT {_COLUMNS} FROM outbox WHERE chat_id IN ({marks(len(chunk))})"
                " AND status IN ('pending', 'failed') AND next_attempt_at <= ? ORDER BY chat_id, id",
                (*chunk, stamp),
            )
            for row in rows:
                found.setdefault(row["chat_id"], []).append(_row_to_item(row))
        return found

    async def claim_many(self, claims: Sequence[tuple[Sequence[int], str]]) -> set[int]:
        """Claim the rows of many messages (row ids, batch id) in one transaction, before they go out. Only
        rows still waiting (pending or failed) are taken — not ones claimed, sent or dropped meanwhile, nor (on
        PostgreSQL) ones another instance is claiming right now; returns the ids this call claimed."""
        batches = {i: batch for ids, batch in claims for i in ids}
        if not batches:
            return set()
        lock = _CLAIM_LOCK[self._db.dialect]
        async with self._db.transaction() as tx:
            waiting: set[int] = set()
            ids = list(batches)
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                rows = await tx.fetch_all(
                    f"SELECT id FROM outbox WHERE id IN ({marks(len(chunk))}) AND status IN ('pending', 'failed')"
                    + lock,
                    tuple(chunk),
                )
                waiting.update(row[0] for row in rows)
            await tx.run_many(
                "UPDATE outbox SET status = 'sending', batch = ? WHERE id = ?", [(batches[i], i) for i in waiting]
            )
            return waiting

    async def claimed_by_chat(self) -> dict[int, set[int]]:
        """Rows claimed for a message that was never confirmed, per chat: at start, what a crash left in flight."""
        found: dict[int, set[int]] = {}
        for row in await self._db.fetch_all("SELECT chat_id, id FROM outbox WHERE status = 'sending'"):
            found.setdefault(row[0], set()).add(row[1])
        return found

    async def in_flight_batches(self, chat_pk: int) -> dict[str, list[int]]:
        rows = await self._db.fetch_all(
            "SELECT batch, id FROM outbox WHERE chat_id = ? AND status = 'sending' ORDER BY id", (chat_pk,)
        )
        batches: dict[str, list[int]] = {}
        for row in rows:
            batches.setdefault(row[0] or f"row-{row[1]}", []).append(row[1])
        return batches

    async def count_waiting(self, chat_pk: int) -> int:
        count = await self._db.fetch_val(
            "SELECT COUNT(*) FROM outbox WHERE chat_id = ? AND status IN ('pending', 'failed', 'sending')",
            (chat_pk,),
        )
        return int(count or 0)

    async def give_up(self, ids: Sequence[int], error: str) -> None:
        """The platform refused these for good; kept as 'dropped' with the reason, for the record."""
        async with self._db.transaction() as tx:
            await tx.run_many(
                "UPDATE outbox SET status = 'dropped', attempts = attempts + 1, last_error = ?, batch = NULL"
                " WHERE id = ?",
                [(error[:500], i) for i in ids],
            )

    async def mark_sending(self, ids: Sequence[int], batch: str) -> None:
        """Claim rows for one message before it goes out: after a crash these are the only repeats."""
        async with self._db.transaction() as tx:
            await tx.run_many("UPDATE outbox SET status = 'sending', batch = ? WHERE id = ?", [(batch, i) for i in ids])

    async def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        """Mark confirmed rows sent, any number of them in one transaction (the delivery worker gathers the
        confirmations of many chats into one call)."""
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            for start in range(0, len(ids), _CHUNK):
                chunk = list(ids[start : start + _CHUNK])
                await tx.run(
                    "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = NULL"
                    f" WHERE id IN ({marks(len(chunk))})",
                    (stamp, *chunk),
                )

    async def mark_failed(
        self, ids: Sequence[int], error: str, retry_at: datetime, *, keep_batch: bool = False
    ) -> None:
        """``keep_batch``: the message may have arrived, so its retry must be the same batch (same keys)."""
        batch = "" if keep_batch else ", batch = NULL"
        async with self._db.transaction() as tx:
            await tx.run_many(
                "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?,"
                f" next_attempt_at = ?{batch} WHERE id = ?",
                [(error[:500], to_db_time(retry_at), i) for i in ids],
            )

    async def release(self, ids: Sequence[int], *, keep_batch: bool = False) -> None:
        """Give claimed rows back unsent (e.g. a digest cut at its cap). ``keep_batch``: an earlier send of
        them may have arrived, so they stay one message under their batch's keys."""
        batch = "" if keep_batch else ", batch = NULL"
        async with self._db.transaction() as tx:
            await tx.run_many(f"UPDATE outbox SET status = 'pending'{batch} WHERE id = ?", [(i,) for i in ids])

    async def unsent_for_subscription(self, subscription_id: int) -> list[OutboxItem]:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM outbox WHERE subscription_id = ? AND status IN ('pending', 'failed') ORDER BY id",
            (subscription_id,),
        )
        return [_row_to_item(r) for r in rows]

    async def reassign_or_drop(self, changes: Sequence[tuple[int, NewOutboxRow | None]]) -> None:
        """After an unsubscribe: rows another subscription of the chat still wants are renamed after it,
        the others are dropped (not wanted any more)."""
        async with self._db.transaction() as tx:
            for row_id, keep in changes:
                if keep is None:
                    await tx.run("UPDATE outbox SET status = 'dropped' WHERE id = ?", (row_id,))
                else:
                    await tx.run(
                        "UPDATE outbox SET subscription_id = ?, query = ?, reason = ? WHERE id = ?",
                        (keep.subscription_id, keep.query, keep.reason, row_id),
                    )

    async def drop_chat(self, chat_pk: int) -> int:
        async with self._db.transaction() as tx:
            return await tx.run(
                "UPDATE outbox SET status = 'dropped' WHERE chat_id = ? AND status != 'sent'", (chat_pk,)
            )

    async def status_counts(self) -> dict[str, int]:
        rows = await self._db.fetch_all("SELECT status, COUNT(*) FROM outbox GROUP BY status")
        return {row[0]: row[1] for row in rows}

    async def sent_pairs(self) -> set[tuple[int, int]]:
        rows = await self._db.fetch_all("SELECT chat_id, article_id FROM outbox WHERE status = 'sent'")
        return {(row[0], row[1]) for row in rows}

    async def attempts(self, ids: Sequence[int]) -> list[int]:
        rows = await self._db.fetch_all(f"SELECT attempts FROM outbox WHERE id IN ({marks(len(ids))})", list(ids))
        return [row[0] for row in rows]
