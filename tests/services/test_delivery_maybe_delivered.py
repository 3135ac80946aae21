"""A send whose outcome is unknown (the answer was lost) is retried as the same message under the same
idempotency keys, never folded with other rows into a new batch: on a platform that deduplicates by key
(Matrix) what already arrived then stays one message. Real SQLite, a fake clock, a key-deduplicating fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.app import App, running_app
from bot.core.clock import FakeClock
from bot.core.messaging import MaybeDelivered, OutgoingMessage, Sent, TransientError
from bot.core.models import ChatKey
from config.settings import Settings
from tests.fakes import RecordingMessenger, command
from tests.services.test_delivery import PLACES, subscribe, visit


@dataclass(eq=False)
class LostAnswers(RecordingMessenger):
    """Deduplicates by key like a homeserver; the next ``lose`` sends arrive, but their answers are lost."""

    lose: int = 0

    async def send(self, chat_id: str, message: OutgoingMessage) -> Sent:
        sent = await super().send(chat_id, message)
        if self.lose:
            self.lose -= 1
            raise MaybeDelivered("connection reset after the request went out")
        return sent


@dataclass(eq=False)
class SecondPartRefused(LostAnswers):
    """Refuses the second part of the first multi-part message once, before it reaches anyone."""

    refused: bool = False

    async def send(self, chat_id: str, message: OutgoingMessage) -> Sent:
        if not self.refused and (message.idempotency_key or "").endswith(".1"):
            self.refused = True
            raise TransientError("connection refused")
        return await super().send(chat_id, message)


@pytest.fixture
def lossy() -> LostAnswers:
    return LostAnswers(dedupe_by_key=True)


@pytest.fixture
async def app(settings: Settings, lossy: LostAnswers, clock: FakeClock) -> AsyncIterator[App]:
    async with running_app(settings, clock=clock, load_seeds=False, run_jobs=False) as running:
        running.services.delivery.register(lossy)
        yield running


@asynccontextmanager
async def daily_digest_app(settings: Settings, clock: FakeClock, messenger: RecordingMessenger) -> AsyncIterator[App]:
    """An app whose one chat, subscribed to Putin, gets daily digests through ``messenger``."""
    async with running_app(settings, clock=clock, load_seeds=False, run_jobs=False) as app:
        app.services.delivery.register(messenger)
        await app.handle(command("/mode daily"))
        await subscribe(app)
        yield app


def times_shown(messenger: RecordingMessenger, place: str) -> int:
    return sum(f"Putin besucht {place}" in text for text in messenger.texts())


async def test_alerts_whose_answers_were_lost_are_not_folded_into_a_new_digest(
    app: App, lossy: LostAnswers, clock: FakeClock
) -> None:
    await subscribe(app)
    lossy.lose = 2
    for place in PLACES[:2]:
        await app.services.ingest.ingest_items([visit(place)])
        await app.services.delivery.run_due()
    assert await app.storage.outbox.status_counts() == {"failed": 2}
    clock.advance(timedelta(hours=1))  # both retries due at once: two rows waiting in an instant chat
    await app.services.delivery.flush()
    assert await app.storage.outbox.status_counts() == {"sent": 2}
    assert [times_shown(lossy, place) for place in PLACES[:2]] == [1, 1], lossy.texts()


async def test_a_lost_answer_keeps_its_batch_through_later_plain_failures(
    app: App, lossy: LostAnswers, clock: FakeClock
) -> None:
    await subscribe(app)
    lossy.lose = 1
    await app.services.ingest.ingest_items([visit(PLACES[0])])
    await app.services.delivery.run_due()
    lossy.failures = [TransientError("connection refused")]  # the retry fails before reaching anyone
    clock.advance(timedelta(hours=1))
    await app.services.delivery.run_due()
    assert await app.storage.outbox.status_counts() == {"failed": 1}
    await app.services.ingest.ingest_items([visit(PLACES[1])])
    clock.advance(timedelta(hours=1))
    await app.services.delivery.flush()
    assert await app.storage.outbox.status_counts() == {"sent": 2}
    assert [times_shown(lossy, place) for place in PLACES[:2]] == [1, 1], lossy.texts()


async def test_a_digest_cut_off_after_its_first_part_is_finished_as_itself(
    settings: Settings, clock: FakeClock
) -> None:
    messenger = SecondPartRefused(dedupe_by_key=True, max_message_chars=700)
    async with daily_digest_app(settings, clock, messenger) as app:
        await app.services.ingest.ingest_items([visit(p) for p in PLACES[:4]])
        await app.handle(command("/digest"))
        assert messenger.refused and len(messenger.sent) == 1
        # A newcomer must not reshape the digest whose first part is already in the chat.
        await app.services.ingest.ingest_items([visit(PLACES[4])])
        clock.advance(timedelta(hours=1))
        await app.handle(command("/digest"))
        assert [times_shown(messenger, place) for place in PLACES[:5]] == [1] * 5, messenger.texts()
        assert await app.storage.outbox.status_counts() == {"sent": 5}


async def test_a_resend_claimed_but_not_begun_at_shutdown_keeps_its_batch(
    app: App, lossy: LostAnswers, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await subscribe(app)
    chat, _ = await app.storage.chats.get_or_create(ChatKey("fake", "c1"), clock.now())
    lossy.lose = 1
    await app.services.ingest.ingest_items([visit(PLACES[0])])
    await app.services.delivery.run_due()
    [failed] = await app.storage.outbox.waiting_for_chat(chat.id)
    assert failed.batch, "a lost answer keeps its batch"
    real_claim = app.storage.outbox.claim_many

    async def claim_then_stop(claims: list[tuple[list[int], str]]) -> set[int]:
        claimed = await real_claim(claims)
        await app.services.delivery.stop()  # the shutdown comes between the claim and the send
        return claimed

    monkeypatch.setattr(app.storage.outbox, "claim_many", claim_then_stop)
    clock.advance(timedelta(hours=1))
    await app.services.delivery.run_due()
    [released] = await app.storage.outbox.waiting_for_chat(chat.id)
    assert (released.status, released.batch) == ("pending", failed.batch)

    monkeypatch.setattr(app.storage.outbox, "claim_many", real_claim)
    await app.services.delivery.start()  # the next run resends it under the same keys: it stays one message
    await app.services.delivery.flush()
    assert await app.storage.outbox.status_counts() == {"sent": 1}
    assert times_shown(lossy, PLACES[0]) == 1, lossy.texts()
