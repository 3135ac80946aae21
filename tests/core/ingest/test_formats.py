"""Markdown, HTML, JSON documents and uploads whose format is sniffed from the content."""

from __future__ import annotations

import gzip
import json
from datetime import date

import pytest

from bot.core.ingest import ParsedItem, parse_document

ARTICLE_DE = (
    "Nordkoreas Diktator Kim Jong-Un verlässt sein Land nur ungern. Jetzt soll er aber laut einem "
    "Medienbericht nach Russland reisen. Hauptthema seines möglichen Treffens mit Kremlchef Putin: "
    "Nachschub für den Ukraine-Krieg."
)
ARTICLE_EN = (
    "North Korean leader Kim Jong Un rarely leaves his country. Now he is expected to travel to Russia "
    "to meet President Vladimir Putin, officials said on Monday, to discuss weapons for the war."
)


def _one(items: list[ParsedItem]) -> ParsedItem:
    assert len(items) == 1, items
    return items[0]


def test_markdown_heading_is_the_title_and_the_syntax_goes() -> None:
    md = (
        "# Kim reist nach *Russland*\n\n"
        "Nordkoreas Diktator **Kim Jong-Un** verlässt sein Land nur ungern. Jetzt soll er\n"
        "aber laut einem [Medienbericht](https://example.org/nyt) nach Russland reisen.\n\n"
        "## Hintergrund\n\n"
        "- Punkt eins mit `Code`\n"
        "* Punkt zwei\n\n"
        "> Ein Zitat von snake_case_name\n\n"
        "![Bild](bild.png)\n\n"
        "---\n\n"
        "| Land | Waffen |\n|---|---|\n| Russland | Granaten |\n"
    )
    item = _one(parse_document("kim.md", md.encode()))
    assert item.status == "ok", item.reason
    draft = item.draft
    assert draft is not None
    assert draft.title == "Kim reist nach Russland"
    assert draft.lang == "de"
    assert draft.body.startswith(
        "Nordkoreas Diktator Kim Jong-Un verlässt sein Land nur ungern. Jetzt soll er aber laut einem "
        "Medienbericht nach Russland reisen.\n\nHintergrund\n\nPunkt eins mit Code\n\nPunkt zwei"
    )
    assert "snake_case_name" in draft.body
    for syntax in ("#", "**", "](", "`", "![", "---", "|", "> "):
        assert syntax not in draft.body


def test_markdown_front_matter_and_setext_heading() -> None:
    md = f"---\ntitle: Ignored when there is a heading\ndate: 2023-09-05\n---\nKim trifft Putin\n===\n\n{ARTICLE_DE}\n"
    draft = _one(parse_document("a.markdown", md.encode())).draft
    assert draft is not None
    assert (draft.title, draft.published) == ("Kim trifft Putin", date(2023, 9, 5))


def test_markdown_without_heading_derives_the_title() -> None:
    draft = _one(parse_document("a.md", ARTICLE_EN.encode())).draft
    assert draft is not None and draft.title == "North Korean leader Kim Jong Un rarely leaves his country"


PAGE = f"""<!doctype html>
<html lang="de"><head><meta charset="utf-8">
<title>Kim reist nach Russland | Beispielzeitung</title>
<meta property="og:title" content="Kim reist nach Russland">
<meta property="article:published_time" content="2023-09-05T10:00:00+02:00">
<script>var tracking = "SCRIPTTEXT";</script><style>.x {{ color: red }}</style></head>
<body>
<header><a href="/">Startseite HEADERTEXT</a></header>
<nav><a href="/politik">Politik NAVTEXT</a> <a href="/sport">Sport NAVTEXT</a></nav>
<article><h1>Kim reist nach Russland</h1>
<p>{ARTICLE_DE}</p>
<p>Demnach wird das Treffen am Rande des Östlichen Wirtschaftsforums in Wladiwostok stattfinden.</p>
</article>
<aside>Lesen Sie auch ASIDETEXT</aside>
<footer>Impressum FOOTERTEXT</footer>
<script>trackMore("SCRIPTTEXT")</script>
</body></html>"""


def test_html_main_text_only_with_og_title_and_date() -> None:
    item = _one(parse_document("page.html", PAGE.encode()))
    assert item.status == "ok", item.reason
    draft = item.draft
    assert draft is not None
    assert draft.title == "Kim reist nach Russland"
    assert draft.published == date(2023, 9, 5)
    assert draft.lang == "de"
    assert draft.body.startswith("Nordkoreas Diktator Kim Jong-Un")
    assert "Wladiwostok" in draft.body
    for noise in ("SCRIPTTEXT", "NAVTEXT", "HEADERTEXT", "FOOTERTEXT", "ASIDETEXT", "color", "Beispielzeitung"):
        assert noise not in draft.body


def test_short_html_page_keeps_its_text_and_drops_chrome() -> None:
    page = (
        "<html><head><title>Short page</title></head><body><nav>Menu NAVTEXT</nav>"
        f"<p>{ARTICLE_EN}</p><script>x('SCRIPTTEXT')</script></body></html>"
    )
    draft = _one(parse_document("s.htm", page.encode())).draft
    assert draft is not None
    assert draft.title == "Short page"
    assert draft.body == ARTICLE_EN
    assert draft.lang == "en"
    assert not draft.teaser_only  # short, but the whole article


def test_html_page_without_text() -> None:
    item = _one(parse_document("empty.html", b"<html><head><title>Nothing</title></head><body></body></html>"))
    assert (item.status, item.reason) == ("rejected", "no article text found in the page")


def test_html_declared_charset_is_honoured_without_a_repair() -> None:
    page = f'<html><head><meta charset="iso-8859-1"><title>Grüße</title></head><body><p>{ARTICLE_DE}</p></body></html>'
    item = _one(parse_document("latin.html", page.encode("latin-1")))
    assert item.status == "ok", item.reason
    assert item.draft is not None and "verlässt" in item.draft.body


def test_json_array_of_records() -> None:
    records = [{"title": "Kim trifft Putin", "text": ARTICLE_DE, "lang": "de"}, {"title": "leer", "text": ""}]
    items = parse_document("batch.json", json.dumps(records).encode())
    assert [(i.source, i.status) for i in items] == [("batch.json[0]", "ok"), ("batch.json[1]", "rejected")]


def test_json_that_is_neither_feed_nor_records_is_rejected() -> None:
    item = _one(parse_document("x.json", b'{"foo": 1}'))
    assert item.status == "rejected" and "neither a JSON Feed nor article records" in item.reason


@pytest.mark.parametrize(
    ("data", "title"),
    [
        (PAGE.encode(), "Kim reist nach Russland"),
        (f"date 2023-09-04\n{ARTICLE_DE}".encode(), "Nordkoreas Diktator Kim Jong-Un verlässt sein Land nur ungern"),
        (json.dumps({"title": "Kim in Russland", "text": ARTICLE_DE}).encode() + b"\n", "Kim in Russland"),
    ],
)
def test_uploads_without_an_extension_are_sniffed(data: bytes, title: str) -> None:
    item = _one(parse_document("upload", data))
    assert item.draft is not None and item.draft.title == title


def test_sniffed_feed_and_gzipped_upload() -> None:
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>Kim meets Putin</title>'
        f"<description>{ARTICLE_EN}</description></item></channel></rss>"
    ).encode()
    assert _one(parse_document("document", rss)).source == "document#item-1"
    item = _one(parse_document("article.txt.gz", gzip.compress(ARTICLE_EN.encode())))
    assert item.status == "ok" and item.source == "article.txt.gz"


def test_upload_limits_and_binary_uploads() -> None:
    assert _one(parse_document("big.txt", b"x" * 2048, max_bytes=1024)).reason == (
        "file too large: 2.0 KB > 1 KB limit"
    )
    assert _one(parse_document("scan.pdf", b"%PDF-1.4\n...")).reason == "binary file (PDF)"
    assert _one(parse_document("a.txt.gz", b"plain")).reason == "not a gzip file (the name ends in .gz)"
    bomb = gzip.compress(b"a " * (3 * 1024 * 1024))
    assert "exceeds the 1 MB limit" in _one(parse_document("bomb.txt.gz", bomb, max_bytes=1024 * 1024)).reason
