"""Replies come from the catalog: German after /lang de, real plurals, the platform's own command prefix."""

from __future__ import annotations

from dataclasses import replace

from bot.app import App
from bot.core.messaging import Attachment, IncomingCommand, Reply, html_to_text
from tests.fakes import command

ARTICLE = "date 2024-06-19\n{title}\n\nKremlchef Wladimir Putin reiste am Mittwoch nach {place}. {place} empfing ihn.\n"


def text(reply: Reply) -> str:
    return "\n".join(html_to_text(m.html) for m in reply.messages)


def on_matrix(cmd: IncomingCommand) -> IncomingCommand:
    return replace(cmd, command_prefix="!")


def seed_file(name: str, *bodies: str) -> Attachment:
    data = "\n".join(bodies).encode()

    async def fetch() -> bytes:
        return data

    return Attachment(filename=name, size=len(data), mime_type="text/plain", fetch=fetch)


async def test_german_chat_gets_german_replies_and_help(app: App) -> None:
    assert "Ich antworte jetzt auf Deutsch." in text(await app.handle(command("/lang de")))
    assert "Abonniert: Putin" in text(await app.handle(command("/subscribe Putin")))
    assert "Dieser Chat folgt Putin bereits." in text(await app.handle(command("/subscribe Putin")))
    help_text = text(await app.handle(command("/help")))
    assert "Befehle" in help_text and "/list — Deine Abos" in help_text
    assert "Nicht mehr folgen (Suchbegriff oder Nummer aus /list)" in help_text
    assert "Unbekannter Befehl /frobnicate" in text(await app.handle(command("/frobnicate")))


async def test_english_is_unchanged_for_an_english_chat(app: App) -> None:
    assert "Subscribed: Putin" in text(await app.handle(command("/subscribe Putin")))
    assert "This chat already follows Putin." in text(await app.handle(command("/subscribe Putin")))
    assert "This chat follows" in text(await app.handle(command("/list")))


async def test_matrix_replies_and_help_write_commands_with_an_exclamation_mark(app: App) -> None:
    unknown = text(await app.handle(on_matrix(command("!frobnicate"))))
    assert unknown == "Unknown command !frobnicate. Send !help for the list of commands."
    help_text = text(await app.handle(on_matrix(command("!help"))))
    assert "!subscribe <query>" in help_text and "its number in !list" in help_text and "/list" not in help_text
    assert "!subscribe Putin" in text(await app.handle(on_matrix(command("!start"))))
    assert "/subscribe Putin" in text(await app.handle(command("/start")))


async def test_addseed_counts_use_real_plurals(app: App) -> None:
    one = seed_file("one.txt", ARTICLE.format(title="Putin in Pjöngjang", place="Pjöngjang"))
    reply = text(await app.handle(command("/addseed", is_bot_admin=True, attachment=one)))
    assert reply.startswith("Stored 1 new article;")
    await app.handle(command("/lang de", chat_id="de", is_bot_admin=True))
    two = seed_file(
        "two.jsonl",
        '{"id": "a", "title": "Putin in Hanoi", "text": "Putin reiste nach Hanoi. Hanoi empfing ihn.", "lang": "de"}',
        '{"id": "b", "title": "Putin in Minsk", "text": "Putin reiste nach Minsk. Minsk empfing ihn.", "lang": "de"}',
    )
    german = text(await app.handle(command("/addseed", chat_id="de", is_bot_admin=True, attachment=two)))
    assert german.startswith("2 neue Artikel gespeichert;"), german
    three = seed_file("three.txt", ARTICLE.format(title="Putin in Wladiwostok", place="Wladiwostok"))
    german_one = text(await app.handle(command("/addseed", chat_id="de", is_bot_admin=True, attachment=three)))
    assert german_one.startswith("1 neuer Artikel gespeichert;"), german_one
    again = text(await app.handle(command("/addseed", is_bot_admin=True, attachment=two)))
    assert again.startswith("Stored 0 new articles; 2 duplicate"), again


async def test_search_title_counts_results(app: App) -> None:
    assert "1 result for Pjöngjang" in text(await app.handle(command("/search Pjöngjang")))
    await app.handle(command("/lang de"))
    assert "1 Treffer für Pjöngjang" in text(await app.handle(command("/search Pjöngjang")))


async def test_the_telegram_command_menu_follows_the_language(app: App) -> None:
    english, german = dict(app.command_names("en")), dict(app.command_names("de"))
    assert english["list"] == "Your subscriptions" and german["list"] == "Deine Abos"
    assert german["unsubscribe"] == "Nicht mehr folgen (Suchbegriff oder Nummer aus /list)"
    assert "addseed" not in english and set(english) == set(german)
