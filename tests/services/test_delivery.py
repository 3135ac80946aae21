"""Alerts and digests end to end in one process: real SQLite, a recording messenger, a fake clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.app import App, running_app
from bot.core.clock import FakeClock
from bot.core.ingest import ParsedItem
from bot.core.messaging import ChatGone, ChatMoved, RetryLater, TransientError
from bot.core.models import ArticleDraft, ChatKey, Mode
from config.settings import Settings
from tests.fakes import RecordingMessenger, command

# One distinct story per place, so that near-duplicate folding keeps them apart.
TOPICS = [
    "Im Mittelpunkt standen Lieferungen von Weizen und Düngemitteln über den Hafen.",
    "Die Delegation besichtigte ein Kernkraftwerk, das russische Ingenieure errichten sollen.",
    "Vereinbart wurde eine neue Bahnverbindung für Containerzüge bis zur Grenze.",
    "Beide Seiten unterzeichneten Abkommen über Raumfahrt und gemeinsame Satelliten.",
    "Studenten sollen künftig Stipendien für Universitäten in Sankt Petersburg erhalten.",
    "Ein Pipelineprojekt für Erdgas soll bis zum Ende des Jahrzehnts fertig werden.",
    "Der Gastgeber bat um Hilfe bei der Modernisierung seiner Flugabwehr.",
    "Auch ein Freihandelsabkommen mit der Eurasischen Wirtschaftsunion war Thema.",
    "Die Zentralbanken wollen Zahlungen künftig in Rubel und Landeswährung abwickeln.",
    "Ein Staudamm am Fluss soll mit russischen Krediten gebaut werden.",
    "Zur Sprache kam ein Streit über Arbeitsmigranten und ihre Visa.",
    "Erdöl soll per Tanker an chinesischen Häfen vorbei geliefert werden.",
    "Kritiker im Parlament warfen der Regierung vor, sich zu abhängig zu machen.",
    "Die Armeen planen ein gemeinsames Manöver an der Küste im Frühjahr.",
    "Ein Vertrag über Diamantenexporte und Goldminen wurde verlängert.",
    "Ägyptische und russische Firmen sollen eine Industriezone am Suezkanal betreiben.",
    "Die Ölförderquoten der Opec plus standen ganz oben auf der Tagesordnung.",
    "Eine Fluglinie nimmt Direktverbindungen nach Moskau wieder auf.",
]
PLACES = [
    "Hanoi", "Ankara", "Teheran", "Peking", "Minsk", "Baku", "Astana", "Taschkent", "Bischkek", "Duschanbe",
    "Eriwan", "Havanna", "Caracas", "Neu-Delhi", "Pretoria", "Kairo", "Riad", "Abu Dhabi",
]


def article(title: str, body: str, source: str = "dpa", published: date | None = date(2026, 3, 28)) -> ParsedItem:
    draft = ArticleDraft(title=title, body=body, lang="de", published=published, source=source)
    return ParsedItem(source=f"test:{title}", draft=draft, status="ok")


def visit(place: str, source: str = "dpa") -> ParsedItem:
    n = PLACES.index(place)
    story = " ".join(TOPICS[(n + k) % len(TOPICS)] for k in (0, 5, 11))
    body = f"Kremlchef Wladimir Putin hat am Dienstag {place} besucht. {story}"
    return article(f"Putin besucht {place}", body, source)


async def subscribe(app: App, query: str = "Putin", chat_id: str = "c1", **kw: object) -> None:
    reply = await app.handle(command(f"/subscribe {query}", chat_id=chat_id, **kw))
    assert "Subscribed" in reply.messages[0].html


async def test_instant_alert_follows_the_ingest_without_polling(
    timed_app: App, messenger: RecordingMessenger
) -> None:
    await subscribe(timed_app)
    await timed_app.services.ingest.ingest_items([visit("Hanoi")])
    texts = await messenger.wait_for(lambda t: len(t) == 1)
    first = texts[0].splitlines()
    assert first[0] == "Putin besucht Hanoi"
    assert any(line.startswith("• ") for line in first)
    assert any("Putin" in line and "matched" in line.lower() for line in first)
    await timed_app.services.delivery.run_due()  # waits for the chat's delivery to finish
    counts = await timed_app.storage.outbox.status_counts()
    assert counts == {"sent": 1}


async def test_daily_digest_at_local_time_across_dst(
    timed_app: App, messenger: RecordingMessenger, clock: FakeClock
) -> None:
    await subscribe(timed_app)
    await timed_app.handle(command("/timezone Europe/Berlin"))
    await timed_app.handle(command("/mode daily 08:00"))
    chat = await timed_app.storage.chats.get_by_key(ChatKey("fake", "c1"))
    assert chat is not None
    scheduler = timed_app.services.scheduler
    assert scheduler is not None
    # 08:00 in Berlin on 29 March 2026 is summer time already (UTC+2): 06:00 UTC, not 07:00.
    assert scheduler.planned(chat.id) == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    await timed_app.services.ingest.ingest_items([visit("Hanoi"), visit("Ankara")])
    assert messenger.sent == []
    clock.set(datetime(2026, 3, 29, 6, 0, tzinfo=UTC))
    await scheduler.run_digest(chat.id)
    [digest] = messenger.texts()
    assert "Hanoi" in digest and "Ankara" in digest and "Putin" in digest
    assert scheduler.planned(chat.id) == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    # Autumn: 25 October 2026 Berlin falls back to UTC+1.
    clock.set(datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    refreshed = await timed_app.storage.chats.get(chat.id)
    assert refreshed is not None
    assert await scheduler.plan_chat(refreshed) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)


async def test_hourly_digest_and_missed_digest_after_restart(
    settings: Settings, messenger: RecordingMessenger, clock: FakeClock
) -> None:
    async with running_app(settings, clock=clock, load_seeds=False, run_jobs=False) as app:
        app.services.delivery.register(messenger)
        await subscribe(app)
        await app.handle(command("/mode hourly"))
        chat = await app.storage.chats.get_by_key(ChatKey("fake", "c1"))
        assert chat is not None and app.services.scheduler is not None
        assert app.services.scheduler.planned(chat.id) == datetime(2026, 3, 28, 13, 0, tzinfo=UTC)
        await app.services.ingest.ingest_items([visit("Hanoi")])
        assert messenger.sent == []
    # The bot was down over the top of the hour: the digest is sent once at start.
    clock.set(datetime(2026, 3, 28, 14, 30, tzinfo=UTC))
    async with running_app(settings, clock=clock, load_seeds=False, run_jobs=False) as app:
        app.services.delivery.register(messenger)
        await app.services.scheduler.plan_all()  # type: ignore[union-attr]
        assert len(messenger.sent) == 1 and "Hanoi" in messenger.texts()[0]
        await app.services.scheduler.plan_all()  # type: ignore[union-attr]
        assert len(messenger.sent) == 1


async def test_quiet_hours_hold_alerts_and_send_one_digest(
    timed_app: App, messenger: RecordingMessenger, clock: FakeClock
) -> None:
    await subscribe(timed_app)
    await timed_app.handle(command("/timezone Europe/Berlin"))
    await timed_app.handle(command("/quiet 22:00-07:00"))
    clock.set(datetime(2026, 3, 28, 22, 30, tzinfo=UTC))  # 23:30 in Berlin
    await timed_app.services.ingest.ingest_items([visit("Hanoi")])
    await timed_app.services.ingest.ingest_items([visit("Ankara")])
    await timed_app.services.delivery.run_due()
    assert messenger.sent == []
    clock.set(datetime(2026, 3, 29, 5, 1, tzinfo=UTC))  # 07:01 summer time
    await timed_app.services.delivery.run_due()
    [digest] = messenger.texts()
    assert "Hanoi" in digest and "Ankara" in digest


async def test_near_duplicates_fold_into_one_story(timed_app: App, messenger: RecordingMessenger) -> None:
    await timed_app.handle(command("/mode daily"))
    await subscribe(timed_app)
    same = visit("Hanoi").draft.body  # type: ignore[union-attr]
    edited = same.replace("am Dienstag", "am Dienstagmorgen")
    await timed_app.services.ingest.ingest_items(
        [
            article("Putin besucht Hanoi", same, "dpa"),
            article("Putin besucht Hanoi", edited, "Reuters"),
            article("Putin reist nach Hanoi", same + " Ergänzt.", "AFP"),
            visit("Ankara"),
        ]
    )
    await timed_app.handle(command("/digest"))
    [digest] = messenger.texts()
    assert "3 sources" in digest
    assert digest.count("Putin besucht Ankara") == 1
    assert (await timed_app.storage.outbox.status_counts()) == {"sent": 4}


async def test_digest_cap_leaves_the_rest_pending(timed_app: App, messenger: RecordingMessenger) -> None:
    await timed_app.handle(command("/mode daily"))
    await subscribe(timed_app)
    await timed_app.services.ingest.ingest_items([visit(p) for p in PLACES[:15]])
    reply = await timed_app.handle(command("/digest"))
    assert "5 more" in reply.messages[0].html
    first = messenger.texts()[0]
    assert "+5 more — send /digest for the rest" in first
    [(_, capped)] = messenger.sent
    assert [b.command for row in capped.buttons for b in row] == ["digest"]
    assert (await timed_app.storage.outbox.status_counts()) == {"sent": 10, "pending": 5}
    await timed_app.handle(command("/digest"))
    assert (await timed_app.storage.outbox.status_counts()) == {"sent": 15}


async def test_long_digests_are_split_under_the_platform_limit(timed_app: App, messenger: RecordingMessenger) -> None:
    messenger.max_message_chars = 700
    await timed_app.handle(command("/mode daily"))
    await subscribe(timed_app)
    await timed_app.services.ingest.ingest_items([visit(p) for p in PLACES[:8]])
    await timed_app.handle(command("/digest"))
    assert len(messenger.sent) > 1
    assert all(len(m.html) <= 700 for _, m in messenger.sent)
    joined = "\n".join(messenger.texts())
    assert all(p in joined for p in PLACES[:8])


async def test_failures_are_retried_with_backoff(
    timed_app: App, messenger: RecordingMessenger, clock: FakeClock
) -> None:
    await subscribe(timed_app)
    messenger.failures = [RetryLater(30), TransientError("502 bad gateway")]
    await timed_app.services.ingest.ingest_items([visit("Hanoi")])
    await timed_app.services.delivery.run_due()
    assert messenger.sent == [] and (await timed_app.storage.outbox.status_counts()) == {"failed": 1}
    clock.advance(31)
    await timed_app.services.delivery.run_due()  # second failure: exponential backoff
    assert messenger.sent == []
    clock.advance(timedelta(minutes=5))
    await timed_app.services.delivery.run_due()
    assert len(messenger.sent) == 1
    assert (await timed_app.storage.outbox.status_counts()) == {"sent": 1}


async def test_blocked_chat_is_deactivated_not_retried(timed_app: App, messenger: RecordingMessenger) -> None:
    await subscribe(timed_app)
    messenger.failures = [ChatGone("bot was blocked by the user")]
    await timed_app.services.ingest.ingest_items([visit("Hanoi")])
    await timed_app.services.delivery.run_due()
    chat = await timed_app.storage.chats.get_by_key(ChatKey("fake", "c1"))
    assert chat is not None and not chat.active
    assert (await timed_app.storage.outbox.status_counts()) == {"dropped": 1}
    await timed_app.services.ingest.ingest_items([visit("Ankara")])
    assert (await timed_app.storage.outbox.status_counts()) == {"dropped": 1}


async def test_migrated_chat_keeps_subscriptions_and_gets_the_alert(
    timed_app: App, messenger: RecordingMessenger
) -> None:
    await subscribe(timed_app, chat_id="-100")
    messenger.failures = [ChatMoved("-100999")]
    await timed_app.services.ingest.ingest_items([visit("Hanoi")])
    await messenger.wait_for(lambda t: len(t) == 1)
    assert messenger.sent[0][0] == "-100999"
    moved = await timed_app.storage.chats.get_by_key(ChatKey("fake", "-100999"))
    assert moved is not None
    assert [s.query for s in await timed_app.storage.subscriptions.for_chat(moved.id)] == ["Putin"]


async def test_mode_instant_releases_held_digest(timed_app: App, messenger: RecordingMessenger) -> None:
    await timed_app.handle(command("/mode daily"))
    await subscribe(timed_app)
    await timed_app.services.ingest.ingest_items([visit("Hanoi")])
    assert messenger.sent == []
    await timed_app.handle(command("/mode instant"))
    await messenger.wait_for(lambda t: len(t) == 1)
    chat = await timed_app.storage.chats.get_by_key(ChatKey("fake", "c1"))
    assert chat is not None and chat.mode is Mode.INSTANT


async def test_unsubscribe_drops_alerts_still_waiting(timed_app: App, messenger: RecordingMessenger) -> None:
    await timed_app.handle(command("/mode daily"))
    await subscribe(timed_app)
    await subscribe(timed_app, "Hanoi")
    await timed_app.services.ingest.ingest_items([visit("Ankara")])
    await timed_app.handle(command("/unsubscribe Putin"))
    assert (await timed_app.storage.outbox.status_counts()) == {"dropped": 1}
    await timed_app.services.ingest.ingest_items([visit("Hanoi")])  # still followed as "Hanoi"
    await timed_app.handle(command("/digest"))
    [digest] = messenger.texts()
    assert "Hanoi" in digest and "Ankara" not in digest
