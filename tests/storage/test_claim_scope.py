"""Claims limited to the platforms an instance serves, and the lease of one given chat (digests)."""

from __future__ import annotations

from datetime import timedelta

from bot.core.models import ChatKey
from bot.storage.outbox import NewOutboxRow
from bot.storage.store import Storage
from tests.storage.test_instances import LEASE, NOW, _seed


async def test_an_instance_claims_only_chats_of_the_platforms_it_serves(storage: Storage) -> None:
    telegram = await _seed(storage, chats=2, articles=1)
    room, _ = await storage.chats.get_or_create(ChatKey("matrix", "!room:example.org"), NOW)
    [article] = {item.article_id for item in await storage.outbox.waiting_for_chat(telegram[0], NOW)}
    assert await storage.outbox.enqueue([NewOutboxRow(room.id, article, None, "q", "r")], NOW) == 1

    assert await storage.claims.claim_chats("no-matrix", NOW, lease=LEASE, platforms=["telegram"]) == telegram
    assert await storage.claims.claim_chats("nothing", NOW, lease=LEASE, platforms=[]) == []
    assert await storage.claims.claim_chats("leader", NOW, lease=LEASE, platforms=["matrix", "telegram"]) == [room.id]


async def test_one_chat_is_leased_for_a_digest_unless_another_instance_holds_it(storage: Storage) -> None:
    first, second = await _seed(storage, chats=2, articles=1)
    assert await storage.claims.claim_chats("a", NOW, limit=1, lease=LEASE) == [first]
    assert not await storage.claims.claim_chat("b", first, NOW, lease=LEASE)
    assert await storage.claims.claim_chat("b", second, NOW, lease=LEASE)
    assert await storage.claims.claim_chat("b", second, NOW, lease=LEASE)  # its own lease: renewed
    assert await storage.claims.claim_chats("a", NOW, lease=LEASE) == [first]  # b's chat is not given to a
    later = NOW + LEASE + timedelta(seconds=1)
    assert await storage.claims.claim_chat("b", first, later, lease=LEASE)  # a's lease ran out
    assert await storage.claims.holders() == {first: "b", second: "b"}
