"""A delivery pass on PostgreSQL renews its chat leases while it runs and says which ones ran out and went to
another instance. The pass itself carries on either way."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import SystemClock
from bot.core.models import ChatKey
from bot.services.delivery.instances import SharedDelivery
from bot.storage.sql import from_db_time
from bot.storage.store import Storage

LEASE = timedelta(seconds=0.6)  # renewed every 0.2 s


async def _expiry(storage: Storage, chat_id: int) -> datetime:
    stored = await storage.db.fetch_val("SELECT expires_at FROM delivery_leases WHERE chat_id = ?", (chat_id,))
    return from_db_time(stored)


async def test_a_long_pass_renews_its_leases_and_names_the_ones_taken_over(
    tmp_path: Path, pg_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    storage = await Storage.open(tmp_path / "unused.db", url=pg_database_url)
    clock = SystemClock()
    try:
        kept, taken = [
            (await storage.chats.get_or_create(ChatKey("fake", name), datetime.now(UTC)))[0].id
            for name in ("kept", "taken")
        ]
        delivery = SharedDelivery(storage, clock, owner="first", lease=LEASE)
        async with delivery.holding(kept, clock, 0), delivery.holding(taken, clock, 0):
            first_expiry = await _expiry(storage, kept)
            await storage.db.run_all([("UPDATE delivery_leases SET owner = 'second' WHERE chat_id = ?", (taken,))])
            with caplog.at_level(logging.WARNING, logger="bot.services.delivery.instances"):
                async with delivery.renewing():  # a pass that outlasts a third of the lease
                    deadline = asyncio.get_running_loop().time() + 10
                    while "1 chat lease(s) ran out" not in caplog.text:
                        assert asyncio.get_running_loop().time() < deadline, "no renewal reported the lost lease"
                        await asyncio.sleep(0.05)
            assert await _expiry(storage, kept) > first_expiry  # renewed, not left to run out
            owner = await storage.db.fetch_val("SELECT owner FROM delivery_leases WHERE chat_id = ?", (taken,))
            assert owner == "second"  # the other instance keeps what it took
    finally:
        await storage.close()
