"""Display attacks in titles, texts and links: the alerts a chat receives are inert and legible.

Articles arrive as a feed file and as corpus records (whose titles are plain text, so markup in them is
literal); the assertions are on the rendered alerts a recording messenger received.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.matching import MatchEngine
from tests.fakes import command
from tests.hostile.world import MB, World, running_world

TOPICS = [
    "über neue Sanktionen gegen Stahlimporte beraten",
    "den Haushalt für die Raumfahrt verteidigt",
    "einen Fischereivertrag mit Norwegen unterzeichnet",
    "über Getreideexporte nach Ägypten verhandelt",
    "Forschern in Nowosibirsk Orden verliehen",
    "eine Brücke über die Lena eröffnet",
    "den Gouverneur von Kamtschatka entlassen",
    "eine Rede vor Studenten in Kasan gehalten",
    "Eishockeyspieler im Kreml empfangen",
]


def body(n: int, name: str = "Putin") -> str:
    """Texts that differ enough not to be folded into one story."""
    return f"Kremlchef Wladimir {name} hat am Dienstag {TOPICS[n]}; weitere Einzelheiten nannte das Präsidialamt nicht."
ALLOWED_TAGS = {"b", "i", "a", "code"}
_TAG = re.compile(r"</?([A-Za-z][\w:-]*)([^>]*)>")


def item(n: int, title: str, link: str, name: str = "Putin") -> str:
    return (
        f"<item><guid>item-{n}</guid><title>{title}</title><link>{html.escape(link)}</link>"
        f"<description>{html.escape(body(n, name))}</description></item>"
    )


FEED = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Attacker</title>'
    + item(0, '&lt;a href="javascript:alert(1)"&gt;Putin klickt&lt;/a&gt; hier', "javascript:alert(document.cookie)")
    + item(1, "&lt;b&gt;&lt;i&gt;Putin ohne Ende", "https://news.example/2")
    + item(
        2,
        "&amp;lt;mx-reply&amp;gt;&amp;lt;blockquote&amp;gt;Admin: Passwort senden&amp;lt;/blockquote&amp;gt;"
        "&amp;lt;/mx-reply&amp;gt; Putin warnt",
        "https://news.example/3",
    )
    + item(3, "Putin \u202etknarhcsnenu\u202c Macht", "https://news.example/4")
    + item(4, "Pu\u200btin\u200d trifft \u2066Kim\u2069", "https://news.example/5", name="Pu\u200btin")
    + item(5, "Putin: paypal.com sperrt Konten", "https://p\u0430ypal.com/login")
    + "</channel></rss>"
)
RECORDS = [
    {"id": "r1", "title": '<a href="javascript:alert(1)">Putin</a> <img src=x onerror=alert(1)>', "text": body(6)},
    {"id": "r2", "title": "<mx-reply><blockquote>@admin: ok</blockquote></mx-reply>Putin-Rede", "text": body(7)},
    {"id": "r3", "title": "Putin </b></i><b><code>", "text": body(8), "url": "javascript:alert(1)"},
]


@pytest.fixture
async def alerts(tmp_path: Path, match_engine: MatchEngine) -> AsyncIterator[tuple[World, list[str]]]:
    """The alert HTML an instant-mode chat following "Putin" received for the hostile articles."""
    async with running_world(tmp_path, match_engine) as world:
        app = world.app
        await app.handle(command("/subscribe Putin", chat_id="c2"))
        feed_report = await app.services.ingest.ingest_document("attack.xml", FEED.encode(), max_bytes=MB)
        jsonl = "".join(json.dumps(r) + "\n" for r in RECORDS).encode()
        record_report = await app.services.ingest.ingest_document("attack.jsonl", jsonl, max_bytes=MB)
        assert feed_report.count("new") == 6 and record_report.count("new") == 3
        await app.services.delivery.flush()
        yield world, [m.html for chat, m in world.messenger.sent if chat == "c2"]


def test_markup_is_inert(alerts: tuple[World, list[str]]) -> None:
    _, sent = alerts
    text = "\n".join(sent)
    assert text.count("Putin") >= 9
    for match in _TAG.finditer(text):
        assert match.group(1).lower() in ALLOWED_TAGS, match.group(0)
        attributes = match.group(2)
        if attributes.strip():
            assert match.group(1) == "a" and re.fullmatch(r' href="https?://[\x21-\x7e]+"', attributes), match.group(0)
    assert "javascript" not in text.replace("javascript:alert(1)&quot;", "")  # only as escaped, quoted text
    assert "&lt;mx-reply&gt;" in text  # shown as the literal text it was, not as a Matrix reply


def test_tags_are_balanced_per_line(alerts: tuple[World, list[str]]) -> None:
    """Unbalanced tags in titles cannot leave a bold or link open (each line is split-safe)."""
    _, sent = alerts
    for line in "\n".join(sent).splitlines():
        opened: list[str] = []
        for match in _TAG.finditer(line):
            name = match.group(1).lower()
            if match.group(0).startswith("</"):
                assert opened and opened.pop() == name, line
            else:
                opened.append(name)
        assert not opened, line


def test_invisible_and_reordering_characters_are_gone(alerts: tuple[World, list[str]]) -> None:
    _, sent = alerts
    text = "\n".join(sent)
    assert not [ch for ch in text if unicodedata.category(ch) == "Cf"]
    assert "Putin trifft Kim" in text  # the zero-width-split name reads, and matched, as itself
    assert "tknarhcsnenu" in text  # the reversed word shows as stored: its trick no longer works


def test_lookalike_hosts_show_as_punycode(alerts: tuple[World, list[str]]) -> None:
    _, sent = alerts
    text = "\n".join(sent)
    assert 'href="https://xn--pypal-4ve.com/login"' in text
    assert "p\u0430ypal" not in text.split("sperrt", 1)[0].rsplit("<b>", 1)[-1].split('">', 1)[0]
