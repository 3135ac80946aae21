"""Lease claims and their lock order on PostgreSQL: a batch claim must never deadlock with a one-chat claim.

The deadlock seen under load: the ``/digest`` command's lease insert (``claim_chat``) checks its foreign key
to ``chats`` at the end of its statement, taking ``FOR KEY SHARE`` on the chat row, while the delivery
worker's batch claim (``claim_chats``) had just locked that chat row ``FOR UPDATE`` and then waited for the
digest's uncommitted lease row. The race is microseconds wide: the first test repeats it until it happens
(it failed within 300 rounds every time on the old lock mode), the second pins down its cause directly.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.core.models import ArticleDraft
from bot.storage.outbox import NewOutboxRow
from bot.storage.sql import to_db_time
from bot.storage.store import Storage
from tests.storage.test_instances import LEASE, NOW, _seed
from tests.waiting import eventually

ROUNDS = 300


def _postgres_only(storage: Storage) -> None:
    if storage.db.dialect != "postgres":
        pytest.skip("row locks between transactions exist on PostgreSQL only (SQLite has one writer)")


async def test_batch_and_digest_claims_at_the_same_moment_never_deadlock(storage: Storage) -> None:
    _postgres_only(storage)
    chats = await _seed(storage, chats=40, articles=1)
    for n in range(ROUNDS):
        await asyncio.gather(
            storage.claims.claim_chats("worker", NOW, limit=64, lease=LEASE),
            storage.claims.claim_chat("digest", chats[n % len(chats)], NOW, lease=LEASE),
            storage.claims.claim_chat("other", chats[(n * 7) % len(chats)], NOW, lease=LEASE),
        )
        held = await storage.claims.holders()
        assert held[chats[n % len(chats)]] in {"worker", "digest", "other"}
        await asyncio.gather(*(storage.claims.release(owner, chats) for owner in ("worker", "digest", "other")))
    assert await storage.claims.holders() == {}


async def _waiting_on_locks(storage: Storage) -> bool:
    value = await storage.db.fetch_val(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return int(value or 0) > 0


async def test_a_batch_claim_holding_a_chat_does_not_block_inserts_that_refer_to_it(storage: Storage) -> None:
    """The half of the deadlock that is gone: while a batch claim holds a chat row (and waits), a lease or
    an alert inserted for that chat passes its foreign-key check instead of waiting for the claim."""
    _postgres_only(storage)
    first, second = await _seed(storage, chats=2, articles=1)
    [article] = await storage.articles.insert_many([("later", ArticleDraft(title="B", body="Text", lang="en"))], NOW)
    assert article is not None
    assert await storage.claims.claim_chat("other", first, NOW - 2 * LEASE, lease=LEASE)  # ran out by NOW
    async with storage.db.transaction() as blocker:
        # 'other' renews its lease, uncommitted (an update of a non-key column: no lock on the chat row),
        # so the batch claim stops at ``first`` with that chat row locked.
        await blocker.run(
            "UPDATE delivery_leases SET expires_at = ? WHERE chat_id = ?", (to_db_time(NOW + LEASE), first)
        )
        batch = asyncio.create_task(storage.claims.claim_chats("worker", NOW, lease=LEASE))
        await eventually(lambda: _waiting_on_locks(storage), within=10.0, what="the batch claim to wait")
        row = NewOutboxRow(first, article, None, "q", "r")
        assert await asyncio.wait_for(storage.outbox.enqueue([row], NOW), 10.0) == 1
        assert not batch.done()
    assert await asyncio.wait_for(batch, 10.0) == [second]  # ``first`` stays 'other''s: renewed meanwhile
    assert await storage.claims.holders() == {first: "other", second: "worker"}
