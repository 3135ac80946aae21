"""Instant chats are served in batches: shared reads, claims and 'sent' marks, each chat still exactly once."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.app import App
from bot.core.clock import FakeClock
from bot.core.models import ChatKey
from bot.storage.outbox import NewOutboxRow
from tests.fakes import RecordingMessenger, command
from tests.services.test_delivery import PLACES, subscribe, visit

CHATS = 120


@pytest.fixture
def app(timed_app: App) -> App:
    return timed_app


async def test_fan_out_marks_many_chats_per_transaction(
    app: App, messenger: RecordingMessenger, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(CHATS):
        await subscribe(app, chat_id=f"c{n}")
    real_mark = app.storage.outbox.mark_sent
    commits: list[int] = []

    async def counting_mark(ids: list[int], now: datetime) -> None:
        commits.append(len(ids))
        await real_mark(ids, now)

    monkeypatch.setattr(app.storage.outbox, "mark_sent", counting_mark)
    await app.services.ingest.ingest_items([visit("Hanoi")])
    await messenger.wait_for(lambda texts: len(texts) >= CHATS)
    await app.services.delivery.run_due()  # returns once the pass that sent them has marked them
    assert sorted(chat for chat, _ in messenger.sent) == sorted(f"c{n}" for n in range(CHATS))
    assert await app.storage.outbox.status_counts() == {"sent": CHATS}
    assert sum(commits) == CHATS
    assert len(commits) <= CHATS // 4, f"one commit per few messages expected, got {commits}"


async def test_claim_takes_only_rows_still_waiting(app: App, clock: FakeClock) -> None:
    now = clock.now()
    kept, _ = await app.storage.chats.get_or_create(ChatKey("fake", "kept"), now)
    gone, _ = await app.storage.chats.get_or_create(ChatKey("fake", "gone"), now)
    article_id = await _an_article(app)
    rows = [NewOutboxRow(chat.id, article_id, None, "Putin", "Putin") for chat in (kept, gone)]
    assert await app.storage.outbox.enqueue(rows, now) == 2
    waiting = await app.storage.outbox.due_for_chats([kept.id, gone.id], now)
    assert set(waiting) == {kept.id, gone.id}
    await app.storage.outbox.drop_chat(gone.id)  # between the read and the claim
    claims = [([item.id for item in items], f"o{items[0].id}") for items in waiting.values()]
    claimed = await app.storage.outbox.claim_many(claims)
    assert claimed == {waiting[kept.id][0].id}
    assert await app.storage.outbox.status_counts() == {"sending": 1, "dropped": 1}
    assert await app.storage.outbox.claim_many(claims) == set()  # a claimed row is not claimed twice


async def _an_article(app: App) -> int:
    report = await app.services.ingest.ingest_items([visit("Ankara")])
    [article_id] = report.new_ids
    return article_id


@pytest.mark.parametrize(
    ("lang", "line"),
    [("en", "+5 more — send !digest for the rest"), ("de", "+5 weitere — !digest senden für den Rest")],
)
async def test_digest_hint_uses_the_platform_command_prefix(
    app: App, messenger: RecordingMessenger, lang: str, line: str
) -> None:
    messenger.command_prefix = "!"  # Matrix writes commands as !digest
    await subscribe(app)
    await app.handle(command(f"/lang {lang}"))
    await app.handle(command("/mode daily"))
    await app.services.ingest.ingest_items([visit(p) for p in PLACES[:15]])
    await app.handle(command("/digest"))
    assert line in messenger.texts()[0]
