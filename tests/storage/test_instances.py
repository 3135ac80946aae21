"""Several instances on one database: chat delivery leases (claimed with SKIP LOCKED on PostgreSQL) and the
shared token bucket. The single-instance behaviour runs on both backends; the races on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.models import ArticleDraft, ChatKey
from bot.storage.outbox import NewOutboxRow
from bot.storage.store import Storage

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


async def _seed(storage: Storage, chats: int, articles: int) -> list[int]:
    """``chats`` active chats, each with ``articles`` pending alerts; returns the chat ids."""
    drafts = [(f"h{n}", ArticleDraft(title=f"A{n}", body=f"Text {n}", lang="en")) for n in range(articles)]
    article_ids = [i for i in await storage.articles.insert_many(drafts, NOW) if i is not None]
    chat_ids = []
    for n in range(chats):
        chat, _ = await storage.chats.get_or_create(ChatKey("telegram", str(1000 + n)), NOW)
        chat_ids.append(chat.id)
    rows = [NewOutboxRow(c, a, None, "q", "r") for c in chat_ids for a in article_ids]
    assert await storage.outbox.enqueue(rows, NOW) == len(rows)
    return chat_ids


async def test_a_chat_leased_by_one_instance_is_not_given_to_another(storage: Storage) -> None:
    chat_ids = await _seed(storage, chats=4, articles=2)
    first = await storage.claims.claim_chats("a", NOW, limit=3, lease=LEASE)
    assert first == chat_ids[:3]
    assert await storage.claims.claim_chats("b", NOW, limit=10, lease=LEASE) == chat_ids[3:]
    assert await storage.claims.claim_chats("c", NOW, limit=10, lease=LEASE) == []
    # The holder's own claim renews what it has.
    assert await storage.claims.claim_chats("a", NOW, limit=10, lease=LEASE) == chat_ids[:3]
    assert await storage.claims.renew("b", chat_ids, NOW + LEASE) == chat_ids[3:]
    await storage.claims.release("a", chat_ids[:1])
    assert await storage.claims.claim_chats("c", NOW, limit=10, lease=LEASE) == chat_ids[:1]
    # An instance that died: its leases run out and its chats go to whoever claims next.
    later = NOW + LEASE + timedelta(seconds=1)
    assert await storage.claims.claim_chats("c", later, limit=10, lease=LEASE) == chat_ids
    assert await storage.claims.renew("a", chat_ids, later + LEASE) == []
    assert set((await storage.claims.holders()).values()) == {"c"}


async def test_chats_without_due_alerts_are_not_claimed(storage: Storage) -> None:
    chat_ids = await _seed(storage, chats=2, articles=1)
    [item] = await storage.outbox.waiting_for_chat(chat_ids[0], NOW)
    await storage.outbox.mark_sent([item.id], NOW)
    [other] = await storage.outbox.waiting_for_chat(chat_ids[1], NOW)
    await storage.outbox.mark_failed([other.id], "429", NOW + timedelta(seconds=30))
    assert await storage.claims.claim_chats("a", NOW, lease=LEASE) == []
    assert await storage.claims.claim_chats("a", NOW + timedelta(seconds=31), lease=LEASE) == [chat_ids[1]]


async def test_token_bucket_paces_and_refills(storage: Storage) -> None:
    waits = [await storage.pacing.reserve("telegram", rate=10.0, burst=3, now=100.0) for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2])
    # One second later ten tokens have come in, but at most ``burst`` are kept (minus the two owed).
    assert await storage.pacing.reserve("telegram", rate=10.0, burst=3, now=101.0) == pytest.approx(0.0)
    assert await storage.pacing.reserve("other", rate=10.0, burst=1, now=101.0) == 0.0
    with pytest.raises(ValueError):
        await storage.pacing.reserve("x", rate=0, burst=1)


async def test_tokens_taken_in_one_block_wait_as_if_taken_one_by_one(storage: Storage) -> None:
    block = await storage.pacing.reserve_many("block", rate=10.0, burst=3, count=5, now=100.0)
    assert block == pytest.approx((0.0, 0.0, 0.0, 0.1, 0.2))
    assert await storage.pacing.reserve("block", rate=10.0, burst=3, now=100.0) == pytest.approx(0.3)
    with pytest.raises(ValueError):
        await storage.pacing.reserve_many("block", rate=10.0, burst=3, count=0)


async def test_token_bucket_uses_the_database_clock_when_no_time_is_given(storage: Storage) -> None:
    assert await storage.pacing.reserve("live", rate=1.0, burst=1) == 0.0
    assert 0.0 < await storage.pacing.reserve("live", rate=1.0, burst=1) <= 1.0


@pytest.fixture
async def three_instances(pg_database_url: str) -> AsyncIterator[list[Storage]]:
    opened = [await Storage.open("unused.db", url=pg_database_url) for _ in range(3)]
    yield opened
    for storage in opened:
        await storage.close()


async def test_three_instances_draining_one_outbox_send_each_alert_once_in_order(
    three_instances: list[Storage],
) -> None:
    chat_ids = await _seed(three_instances[0], chats=40, articles=5)
    sent: list[tuple[str, int, int, int]] = []  # (instance, chat, article, outbox id) in sending order

    async def worker(name: str, storage: Storage) -> None:
        idle = 0
        while idle < 3:
            chats = await storage.claims.claim_chats(name, NOW, limit=4, lease=LEASE)
            idle = idle + 1 if not chats else 0
            for chat in chats:
                for item in await storage.outbox.waiting_for_chat(chat, NOW):
                    await storage.outbox.mark_sending([item.id], f"{name}-{item.id}")
                    sent.append((name, item.chat_id, item.article_id, item.id))
                    await asyncio.sleep(0)  # the platform call: other instances run meanwhile
                    await storage.outbox.mark_sent([item.id], NOW)
            await storage.claims.release(name, chats)
            await asyncio.sleep(0)

    await asyncio.gather(*(worker(f"i{n}", s) for n, s in enumerate(three_instances)))
    pairs = Counter((chat, article) for _, chat, article, _ in sent)
    assert len(pairs) == 40 * 5 and set(pairs.values()) == {1}, "an alert was sent twice or not at all"
    for chat in chat_ids:
        ids = [row_id for _, c, _, row_id in sent if c == chat]
        assert ids == sorted(ids), f"chat {chat} out of order"
    assert len({name for name, *_ in sent}) == 3, "the work was not spread over the instances"
    assert await three_instances[1].outbox.status_counts() == {"sent": 200}


async def test_three_instances_share_one_global_rate(three_instances: list[Storage]) -> None:
    """60 reservations at the same instant from three instances: one bucket, so the waits are 0, 1/30, 2/30 …
    (separate buckets, or a lost update, would hand out the same slot twice)."""

    async def reserve(storage: Storage) -> list[float]:
        return [await storage.pacing.reserve("telegram", rate=30.0, burst=1, now=500.0) for _ in range(20)]

    results = await asyncio.gather(*(reserve(s) for s in three_instances))
    waits = sorted(w for batch in results for w in batch)
    assert waits == pytest.approx([n / 30 for n in range(60)])


async def test_three_instances_taking_blocks_share_one_global_rate(three_instances: list[Storage]) -> None:
    async def reserve(storage: Storage) -> list[float]:
        blocks = [await storage.pacing.reserve_many("blocks", rate=30.0, burst=1, count=4, now=500.0) for _ in range(5)]
        return [wait for block in blocks for wait in block]

    results = await asyncio.gather(*(reserve(s) for s in three_instances))
    assert sorted(w for batch in results for w in batch) == pytest.approx([n / 30 for n in range(60)])
