"""Edge cases of the delivery guarantees: interrupted matching, unsubscribe races, partial sends,
confirmed-but-unmarked rows, migrations that merge chats, comebacks, refusals, quiet hours."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import App, running_app
from bot.core.clock import FakeClock
from bot.core.ingest import content_hash
from bot.core.messaging import ChatGone, OutgoingMessage, SendError, Sent, TransientError
from bot.core.models import ChatKey, Mode
from bot.services.delivery import MAX_REFUSALS
from bot.storage.outbox import NewOutboxRow
from config.settings import Settings
from tests.fakes import RecordingMessenger, command
from tests.services.conftest import START
from tests.services.test_delivery import PLACES, subscribe, visit


@pytest.fixture
def app(timed_app: App) -> App:
    return timed_app


async def test_matching_interrupted_by_a_crash_is_caught_up_at_start(
    settings: Settings, messenger: RecordingMessenger, clock: FakeClock
) -> None:
    async with running_app(settings, clock=clock, load_seeds=False, run_jobs=False) as app:
        await subscribe(app)
        # Stored for alerting, but the process died before its alerts were written.
        draft = visit("Hanoi").draft
        assert draft is not None
        await app.storage.articles.insert_many([(content_hash(draft), draft)], clock.now(), to_match=True)
        assert await app.storage.outbox.status_counts() == {}
    async with running_app(settings, clock=clock, load_seeds=False, run_jobs=False) as app:
        app.services.delivery.register(messenger)
        await app.services.delivery.run_due()
        assert ["Putin besucht Hanoi" in t for t in messenger.texts()] == [True]
        assert await app.storage.articles.unmatched_ids() == []


async def test_a_subscription_removed_during_matching_does_not_fail_the_batch(app: App) -> None:
    await subscribe(app, chat_id="a")
    await subscribe(app, chat_id="b")
    [article_id] = (await app.services.ingest.ingest_items([visit("Hanoi")], alert=False)).new_ids
    chat_a = await app.storage.chats.get_by_key(ChatKey("fake", "a"))
    chat_b = await app.storage.chats.get_by_key(ChatKey("fake", "b"))
    assert chat_a is not None and chat_b is not None
    [sub_a] = await app.storage.subscriptions.for_chat(chat_a.id)
    [sub_b] = await app.storage.subscriptions.for_chat(chat_b.id)
    await app.storage.subscriptions.remove(sub_a.id)  # gone between the match and the write
    rows = [NewOutboxRow(c.id, article_id, s.id, "Putin", "Putin") for c, s in ((chat_a, sub_a), (chat_b, sub_b))]
    assert await app.storage.outbox.enqueue(rows, START) == 2


async def test_unsubscribe_hands_waiting_alerts_to_another_matching_query(
    app: App, messenger: RecordingMessenger
) -> None:
    await app.handle(command("/mode daily"))
    await subscribe(app, "Putin")
    await subscribe(app, "Hanoi")
    await app.services.ingest.ingest_items([visit("Hanoi"), visit("Ankara")])
    await app.handle(command("/unsubscribe Putin"))
    assert await app.storage.outbox.status_counts() == {"pending": 1, "dropped": 1}
    await app.handle(command("/digest"))
    [digest] = messenger.texts()
    assert "Putin besucht Hanoi" in digest and "Ankara" not in digest


class PartFailing(RecordingMessenger):
    """Fails the second part of the first multi-part message once."""

    failed = False

    async def send(self, chat_id: str, message: OutgoingMessage) -> Sent:
        if not self.failed and (message.idempotency_key or "").endswith(".1"):
            self.failed = True
            raise TransientError("502 bad gateway")
        return await super().send(chat_id, message)


async def test_a_retry_does_not_repeat_parts_already_delivered(
    settings: Settings, clock: FakeClock
) -> None:
    messenger = PartFailing(max_message_chars=700)
    async with running_app(settings, clock=clock, load_seeds=False, run_jobs=False) as app:
        app.services.delivery.register(messenger)
        await app.handle(command("/mode daily"))
        await subscribe(app)
        await app.services.ingest.ingest_items([visit(p) for p in PLACES[:6]])
        await app.handle(command("/digest"))
        delivered_first = len(messenger.sent)
        assert messenger.failed and delivered_first == 1
        clock.advance(timedelta(minutes=5))
        await app.services.delivery.run_due()
        keys = [m.idempotency_key for _, m in messenger.sent]
        assert len(keys) == len(set(keys)), "a part was delivered twice"
        assert keys[0].endswith(".0") and keys[1].endswith(".1")  # type: ignore[union-attr]
        assert await app.storage.outbox.status_counts() == {"sent": 6}


async def test_confirmed_but_unmarked_alerts_are_not_resent(
    app: App, messenger: RecordingMessenger, monkeypatch: pytest.MonkeyPatch
) -> None:
    await subscribe(app)
    real_mark = app.storage.outbox.mark_sent
    calls = 0

    async def flaky_mark(ids: list[int], now: datetime) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("database is locked")
        await real_mark(ids, now)

    monkeypatch.setattr(app.storage.outbox, "mark_sent", flaky_mark)
    await app.services.ingest.ingest_items([visit("Hanoi")])
    await messenger.wait_for(lambda t: len(t) == 1)
    for _ in range(3):
        await app.services.delivery.run_due()
    assert len(messenger.sent) == 1
    assert await app.storage.outbox.status_counts() == {"sent": 1}


async def test_migration_into_a_known_chat_merges_subscriptions_into_the_index(
    app: App, messenger: RecordingMessenger
) -> None:
    await subscribe(app, "Putin", chat_id="-100")
    await subscribe(app, "Ankara", chat_id="-100999")  # the supergroup wrote to us first
    await app.chat_moved(ChatKey("fake", "-100"), "-100999")
    await app.services.ingest.ingest_items([visit("Ankara")])
    await messenger.wait_for(lambda t: len(t) == 1)
    assert messenger.sent[0][0] == "-100999"
    chat = await app.storage.chats.get_by_key(ChatKey("fake", "-100999"))
    assert chat is not None
    assert sorted(s.query for s in await app.storage.subscriptions.for_chat(chat.id)) == ["Ankara", "Putin"]


async def test_a_digest_chat_that_comes_back_gets_its_digest_planned_again(
    app: App, messenger: RecordingMessenger
) -> None:
    await app.handle(command("/mode daily 08:00"))
    await subscribe(app)
    messenger.failures = [ChatGone("blocked")]
    await app.handle(command("/digest"))  # nothing waits: no send yet
    await app.services.ingest.ingest_items([visit("Hanoi")])
    await app.handle(command("/digest"))
    chat = await app.storage.chats.get_by_key(ChatKey("fake", "c1"))
    assert chat is not None and not chat.active
    assert app.services.scheduler is not None and app.services.scheduler.planned(chat.id) is None
    await app.handle(command("/list"))  # the user unblocked the bot and writes again
    assert app.services.scheduler.planned(chat.id) == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    await app.services.ingest.ingest_items([visit("Ankara")])
    assert await app.storage.outbox.status_counts() == {"dropped": 1, "pending": 1}


async def test_a_message_refused_for_good_is_given_up_after_a_few_tries(
    app: App, messenger: RecordingMessenger, clock: FakeClock
) -> None:
    await subscribe(app)
    messenger.failures = [SendError("400 Bad Request: message is malformed")] * MAX_REFUSALS
    await app.services.ingest.ingest_items([visit("Hanoi")])
    for _ in range(MAX_REFUSALS + 1):
        await app.services.delivery.run_due()
        clock.advance(timedelta(hours=2))
    assert await app.storage.outbox.status_counts() == {"dropped": 1}
    await app.services.ingest.ingest_items([visit("Ankara")])  # the chat is not blocked by it
    await messenger.wait_for(lambda t: len(t) == 1)


QUIET = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)  # inside the quiet hours the tests below set


async def _a_send_failed_before_quiet_hours(app: App, messenger: RecordingMessenger) -> None:
    """Quiet hours 22:00-07:00, and at 12:00 UTC (not quiet) the Hanoi alert's send failed: a retry is due."""
    await subscribe(app)
    await app.handle(command("/quiet 22:00-07:00"))
    messenger.failures = [TransientError("timeout")]
    await app.services.ingest.ingest_items([visit("Hanoi")])
    await app.services.delivery.run_due()


def _only_the_retry_went_out(messenger: RecordingMessenger) -> bool:
    return [("Hanoi" in t, "Ankara" in t) for t in messenger.texts()] == [(True, False)]


async def test_a_send_that_waited_for_the_chat_into_quiet_hours_sends_only_the_retry(
    app: App, messenger: RecordingMessenger, clock: FakeClock
) -> None:
    # A pass plans a chat as instant, finds another pass holding it, and serves it afterwards: by then the
    # quiet hours may have begun, and only the retry may go out.
    await _a_send_failed_before_quiet_hours(app, messenger)
    chat = await app.storage.chats.get_by_key(ChatKey("fake", "c1"))
    assert chat is not None
    async with app.services.delivery._chat_locks.lock(chat.id):  # another pass holds the chat
        waited = asyncio.ensure_future(app.services.delivery.deliver_chat(chat, as_digest=False))
        await asyncio.sleep(0)  # it is now waiting for the chat
        clock.set(QUIET)
        await app.services.ingest.ingest_items([visit("Ankara")])
    await waited
    await messenger.wait_for(lambda t: len(t) == 1)
    await app.services.delivery.run_due()
    assert _only_the_retry_went_out(messenger)


async def test_a_retry_during_quiet_hours_sends_only_the_failed_alert(
    app: App, messenger: RecordingMessenger, clock: FakeClock
) -> None:
    await _a_send_failed_before_quiet_hours(app, messenger)
    clock.set(QUIET)
    await app.services.ingest.ingest_items([visit("Ankara")])
    # this pass or the background worker's, woken by the new alert: whichever holds the chat sends the retry
    await app.services.delivery.run_due()
    await messenger.wait_for(lambda t: len(t) == 1)
    await app.services.delivery.run_due()  # and a later pass still holds Ankara back
    assert _only_the_retry_went_out(messenger)
    chat = await app.storage.chats.get_by_key(ChatKey("fake", "c1"))
    assert chat is not None and chat.mode is Mode.INSTANT
