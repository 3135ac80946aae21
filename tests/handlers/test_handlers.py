"""Every chat command through the real application (real SQLite) and a recording fake messenger."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import App
from bot.core.messaging import Attachment, Reply, html_to_text
from bot.core.models import ChatKey, Mode
from tests.conftest import SEED_FILE
from tests.fakes import RecordingMessenger, command

NEW_PUTIN_ARTICLE = """date 2024-06-19
Putin landet in Pjöngjang

Kremlchef Wladimir Putin ist zu einem Staatsbesuch in Nordkorea eingetroffen. Machthaber Kim Jong-un empfing ihn
am Flughafen der Hauptstadt. Beide Seiten wollen einen Vertrag über eine umfassende strategische Partnerschaft
unterzeichnen, wie die staatliche Nachrichtenagentur berichtete. Westliche Regierungen befürchten, dass Moskau
weitere Munition aus Nordkorea für den Krieg gegen die Ukraine erhalten soll.
"""


def text(reply: Reply) -> str:
    return "\n".join(html_to_text(m.html) for m in reply.messages)


def buttons(reply: Reply) -> list[tuple[str, str]]:
    return [(b.label, b.command) for m in reply.messages for row in m.buttons for b in row]


def file_attachment(name: str, data: bytes, calls: list[str] | None = None) -> Attachment:
    async def fetch() -> bytes:
        if calls is not None:
            calls.append(name)
        return data

    return Attachment(filename=name, size=len(data), mime_type="text/plain", fetch=fetch)


async def test_start_and_help(app: App) -> None:
    assert "/subscribe Putin" in text(await app.handle(command("/start")))
    user_help = text(await app.handle(command("/help")))
    assert "/subscribe <query>" in user_help and "/unsubscribe" in user_help
    assert "/addseed" not in user_help
    admin_help = text(await app.handle(command("/help", is_bot_admin=True)))
    assert "/addseed" in admin_help and "/stats" in admin_help


async def test_unknown_command_is_explained(app: App) -> None:
    assert "Unknown command /frobnicate" in text(await app.handle(command("/frobnicate now")))


async def test_subscribe_explains_and_shows_newest_article(app: App) -> None:
    reply = await app.handle(command("/subscribe Putin"))
    body = text(reply)
    assert "Subscribed: Putin" in body
    assert "Understood as:" in body
    assert "Newest matching article" in body and "Kim" in body  # the seed
    assert any(label == "Undo" for label, _ in buttons(reply))
    listed = await app.handle(command("/list"))
    assert "1. Putin" in text(listed)
    assert buttons(listed)[0][1].startswith("unsubscribe #")


async def test_subscribe_refusals_change_nothing(app: App) -> None:
    assert "what to follow" in text(await app.handle(command("/subscribe")))
    assert "limit is 200" in text(await app.handle(command("/subscribe " + "x" * 201)))
    await app.handle(command("/subscribe Putin"))
    assert "already follows" in text(await app.handle(command("/subscribe  putin ")))
    malformed = text(await app.handle(command('/subscribe Putin AND (Kim OR')))
    assert "could not understand" in malformed
    assert "1. Putin" in text(await app.handle(command("/list")))
    assert "2." not in text(await app.handle(command("/list")))


async def test_subscription_limit_per_chat(app: App) -> None:
    limit = app.settings.max_subscriptions_per_chat
    for n in range(limit):
        assert "Subscribed" in text(await app.handle(command(f"/subscribe keyword{n}")))
    assert "maximum" in text(await app.handle(command("/subscribe one-too-many")))


async def test_unsubscribe_by_number_text_and_button(app: App) -> None:
    for query in ("Putin", "arms deal", "Nordkorea"):
        await app.handle(command(f"/subscribe {query}"))
    assert "Unsubscribed: arms deal" in text(await app.handle(command("/unsubscribe 2")))
    removed = await app.handle(command("/unsubscribe NORDKOREA"))
    assert "Unsubscribed: Nordkorea" in text(removed)
    assert buttons(removed) == [("Undo", "subscribe Nordkorea")]
    assert "does not follow" in text(await app.handle(command("/unsubscribe 7")))
    listed = await app.handle(command("/list"))
    [(_, press)] = buttons(listed)
    assert "Unsubscribed: Putin" in text(await app.handle(command(f"/{press}", callback=True)))
    # A stale button (already removed) gets a polite answer, nothing else happens.
    assert "does not follow" in text(await app.handle(command(f"/{press}", callback=True)))
    assert "follows nothing" in text(await app.handle(command("/list")))


async def test_latest_and_search(app: App) -> None:
    latest = text(await app.handle(command("/latest")))
    assert "Kim Jong-Un" in latest and "•" in latest
    assert "Kim" in text(await app.handle(command("/latest Putin")))
    assert "No article" in text(await app.handle(command("/latest Merkel")))
    found = text(await app.handle(command("/search Wladiwostok")))
    assert "1 result for" in found
    assert "Nothing in the archive" in text(await app.handle(command('/search "NEAR(x*')))
    assert "look for" in text(await app.handle(command("/search")))


async def test_mode_timezone_quiet_and_lang(app: App) -> None:
    assert "Now: instant" in text(await app.handle(command("/mode")))
    assert "hourly digest" in text(await app.handle(command("/mode hourly")))
    assert "07:30" in text(await app.handle(command("/mode daily 07:30")))
    assert "hours go 00–23" in text(await app.handle(command("/mode daily 25:99")))
    chat = await app.storage.chats.get_by_key(ChatKey("fake", "c1"))
    assert chat is not None and chat.mode is Mode.DAILY and chat.digest_time == "07:30"
    assert "Europe/Berlin" in text(await app.handle(command("/timezone europe/berlin")))
    assert "Unknown time zone “Mars/Olympus”" in text(await app.handle(command("/timezone Mars/Olympus")))
    assert "Did you mean America/New_York?" in text(await app.handle(command("/timezone America/NewYork")))
    assert "22:00–07:00" in text(await app.handle(command("/quiet 22:00-07:00")))
    assert "off" in text(await app.handle(command("/quiet off")))
    assert "is not a quiet-hours range" in text(await app.handle(command("/quiet 22-7 please")))
    assert "Deutsch" in text(await app.handle(command("/lang de")))
    assert "Befehle" in text(await app.handle(command("/help")))
    assert "Jetzt" in text(await app.handle(command("/lang fr")))
    assert "ist keine Uhrzeit" in text(await app.handle(command("/mode daily 25:99")))
    assert "Meintest du Europe/Berlin?" in text(await app.handle(command("/timezone Europe/Berln")))


async def test_group_members_read_but_only_admins_change(app: App) -> None:
    member = {"chat_id": "g1", "is_group": True, "can_manage_chat": False}
    assert "only chat admins" in text(await app.handle(command("/subscribe Putin", **member)))
    assert "follows nothing" in text(await app.handle(command("/list", **member)))
    admin = {"chat_id": "g1", "is_group": True, "can_manage_chat": True}
    assert "Subscribed" in text(await app.handle(command("/subscribe Putin", **admin)))
    assert "only chat admins" in text(await app.handle(command("/mode daily", **member)))


async def test_addseed_refuses_non_admins_without_downloading(app: App) -> None:
    calls: list[str] = []
    attachment = file_attachment("new.txt", NEW_PUTIN_ARTICLE.encode(), calls)
    reply = await app.handle(command("/addseed", attachment=attachment))
    assert "Only bot admins" in text(reply)
    assert calls == []
    assert await app.storage.articles.count() == 1


async def test_addseed_checks_type_and_size_before_downloading(app: App) -> None:
    calls: list[str] = []
    exe = file_attachment("tool.exe", b"MZ\x00\x00", calls)
    assert "unsupported file type" in text(await app.handle(command("/addseed", is_bot_admin=True, attachment=exe)))
    big = Attachment("big.txt", 60 * 1024 * 1024, "text/plain", file_attachment("big.txt", b"", calls).fetch)
    assert "over the" in text(await app.handle(command("/addseed", is_bot_admin=True, attachment=big)))
    assert calls == []
    assert "Attach a file" in text(await app.handle(command("/addseed", is_bot_admin=True)))


async def test_addseed_stores_and_alerts_subscribers(app: App, messenger: RecordingMessenger) -> None:
    await app.handle(command("/subscribe Putin", chat_id="reader"))
    await app.handle(command("/subscribe Merkel", chat_id="other"))
    attachment = file_attachment("putin.txt", NEW_PUTIN_ARTICLE.encode())
    reply = text(await app.handle(command("/addseed", chat_id="admin", is_bot_admin=True, attachment=attachment)))
    assert "Stored 1 new article" in reply and "Putin landet in Pjöngjang" in reply
    texts = await messenger.wait_for(lambda t: len(t) >= 1)
    assert [c for c, _ in messenger.sent] == ["reader"]
    assert "Putin landet in Pjöngjang" in texts[0] and "• " in texts[0]
    assert "Putin" in texts[0].split("\n")[-1] or "matched" in texts[0].lower()
    again = text(await app.handle(command("/addseed", is_bot_admin=True, attachment=attachment)))
    assert "1 duplicate" in again


async def test_addseed_reports_rejected_content(app: App) -> None:
    empty = file_attachment("empty.txt", b"")
    assert "rejected" in text(await app.handle(command("/addseed", is_bot_admin=True, attachment=empty)))
    binary = file_attachment("blob.txt", bytes(range(256)) * 10)
    assert "rejected" in text(await app.handle(command("/addseed", is_bot_admin=True, attachment=binary)))
    assert await app.storage.articles.count() == 1


async def test_digest_command_sends_what_waits(app: App, messenger: RecordingMessenger) -> None:
    assert "Nothing is waiting" in text(await app.handle(command("/digest")))
    await app.handle(command("/mode daily 08:00"))
    await app.handle(command("/subscribe Putin"))
    await app.services.ingest.ingest_path(Path(__file__).parent / "data" / "putin_visit.txt")
    assert messenger.sent == []  # daily mode holds it
    reply = await app.handle(command("/digest"))
    assert reply.messages == ()
    assert "Putin" in messenger.texts()[0]


async def test_stats_for_admins(app: App) -> None:
    assert "Only bot admins" in text(await app.handle(command("/stats")))
    stats = text(await app.handle(command("/stats", is_bot_admin=True)))
    assert "1 articles" in stats


async def test_handler_failure_becomes_an_apology(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*_: object) -> list[object]:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(app.services.subscriptions, "list", broken)
    reply = text(await app.handle(command("/list")))
    assert "something went wrong" in reply and "database on fire" not in reply


def test_seed_file_is_shipped() -> None:
    assert SEED_FILE.is_file()


async def test_odd_numbers_and_numeric_queries_in_unsubscribe(app: App) -> None:
    await app.handle(command("/subscribe 2024"))
    assert "does not follow ²" in text(await app.handle(command("/unsubscribe ²")))
    assert "does not follow #²" in text(await app.handle(command("/unsubscribe #²")))
    assert "Unsubscribed: 2024" in text(await app.handle(command("/unsubscribe 2024")))


async def test_a_duplicate_names_what_the_chat_already_follows(app: App) -> None:
    await app.handle(command("/subscribe arms deal"))
    assert "already follows arms deal" in text(await app.handle(command("/subscribe Waffendeal")))


async def test_candidate_buttons_only_for_a_bare_ambiguous_name(app: App) -> None:
    bare = await app.handle(command("/subscribe Kim"))
    assert "Pick one" in text(bare) and all(cmd.startswith("subscribe Kim") for _, cmd in buttons(bare))
    combined = await app.handle(command("/subscribe Putin AND Kim"))
    assert "Subscribed: Putin AND Kim" in text(combined)


async def test_refused_commands_store_nothing(app: App) -> None:
    before = await app.storage.chats.count(active_only=False)
    await app.handle(command("/no-such-thing", chat_id="stranger"))
    await app.handle(command("/stats", chat_id="stranger"))
    assert await app.storage.chats.count(active_only=False) == before


async def test_long_input_is_not_echoed_whole(app: App) -> None:
    reply = text(await app.handle(command("/unsubscribe " + "x" * 5000)))
    assert len(reply) < 200
