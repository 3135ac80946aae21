"""RSS 0.91/1.0/2.0, Atom and JSON Feed documents, and what happens to broken ones."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.core.ingest import iter_path, parse_feed_bytes

TEASER = "North Korean leader Kim Jong Un met Russian President Vladimir Putin at a spaceport in Russia's far east."
LONG_TEXT = " ".join([TEASER] * 6)

RSS20 = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>World News</title><link>https://news.example.org/</link><language>en-gb</language><ttl>30</ttl>
<item><title>Kim meets Putin</title><link>https://news.example.org/a</link><guid>g-1</guid>
<description>&lt;p&gt;{TEASER} &lt;script&gt;evil()&lt;/script&gt;&lt;/p&gt;</description>
<pubDate>Wed, 13 Sep 2023 10:00:00 +0200</pubDate></item>
<item><title>Full story</title><link>https://news.example.org/b</link>
<description>Short summary of the full story, which follows in the content element.</description>
<content:encoded><![CDATA[<p>{LONG_TEXT}</p><p>Second paragraph.</p>]]></content:encoded></item>
<item><title>Headline only: Kim arrives in Vladivostok by armoured train</title></item>
<item><description></description></item>
</channel></rss>""".encode()


def test_rss20_entries_fields_and_drafts() -> None:
    feed = parse_feed_bytes(RSS20, source="https://news.example.org/rss")
    assert (feed.title, feed.ttl, feed.language, feed.link, feed.error) == (
        "World News",
        30,
        "en",
        "https://news.example.org/",
        None,
    )
    first, full, headline, empty = feed.items
    assert (headline.text, empty.title) == ("", "")
    assert (first.guid, first.link, first.title, first.text) == (
        "g-1",
        "https://news.example.org/a",
        "Kim meets Putin",
        TEASER,
    )
    assert first.published == datetime(2023, 9, 13, 8, 0, tzinfo=UTC)
    assert first.teaser_only and not full.teaser_only
    assert full.text.startswith(TEASER) and full.text.endswith("\n\nSecond paragraph.")
    assert full.guid == "https://news.example.org/b"  # no <guid>: the link identifies the item

    drafts = feed.drafts()
    assert [d.source for d in drafts] == [f"https://news.example.org/rss#item-{n}" for n in range(1, 5)]
    assert [d.status for d in drafts] == ["ok", "ok", "repaired", "rejected"]
    draft = drafts[0].draft
    assert draft is not None
    assert (draft.title, draft.lang, draft.published, draft.source, draft.teaser_only) == (
        "Kim meets Putin",
        "en",
        date(2023, 9, 13),
        "World News",
        True,
    )
    assert "evil" not in draft.body
    assert drafts[2].reason == "feed item has no text; used its title as the text"
    assert drafts[3].reason == "feed item has neither a title nor text"


def test_rss10_rdf_and_rss091() -> None:
    rdf = f"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://x.org/"><title>RDF feed</title><link>https://x.org/</link><description>d</description></channel>
<item rdf:about="https://x.org/1"><title>Kim meets Putin</title><link>https://x.org/1</link>
<description>{TEASER}</description><dc:date>2023-09-13T08:00:00Z</dc:date></item></rdf:RDF>""".encode()
    feed = parse_feed_bytes(rdf, source="rdf.xml")
    assert feed.error is None and feed.title == "RDF feed"
    assert feed.items[0].published == datetime(2023, 9, 13, 8, tzinfo=UTC)
    rss091 = f"""<?xml version="1.0"?><rss version="0.91"><channel><title>Old</title><link>https://o.org/</link>
<description>d</description><language>de</language>
<item><title>Kim trifft Putin</title><link>https://o.org/1</link><description>{TEASER}</description></item>
</channel></rss>""".encode()
    feed = parse_feed_bytes(rss091, source="old.rss")
    assert feed.error is None and feed.language == "de" and feed.items[0].link == "https://o.org/1"


def test_atom_with_html_content_and_relative_links() -> None:
    atom = f"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>Atom News</title><link href="/"/><id>urn:feed</id><updated>2023-09-13T08:00:00Z</updated>
<entry><id>urn:1</id><title>Kim meets Putin</title><link href="/story/1"/><updated>2023-09-13T08:00:00Z</updated>
<summary>{TEASER}</summary><content type="html">&lt;p&gt;{LONG_TEXT}&lt;/p&gt;</content></entry></feed>""".encode()
    feed = parse_feed_bytes(atom, source="https://atom.example.org/feed.atom")
    [entry] = feed.items
    assert entry.link == "https://atom.example.org/story/1"
    assert entry.text == LONG_TEXT and not entry.teaser_only
    assert entry.published == datetime(2023, 9, 13, 8, tzinfo=UTC)
    assert feed.warning is None


def test_json_feed_11() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON News",
        "language": "de-DE",
        "home_page_url": "https://j.example.org/",
        "items": [
            {
                "id": 1,
                "url": "https://j.example.org/1",
                "title": "Kim trifft Putin",
                "content_html": "<p>Kim Jong-Un und Wladimir Putin treffen sich in Wladiwostok zu Gesprächen.</p>",
                "date_published": "2023-09-13T10:00:00+02:00",
            },
            {"id": "2", "content_text": LONG_TEXT, "date_published": "2023-09-14"},
            "not an object",
        ],
    }
    feed = parse_feed_bytes(json.dumps(document).encode(), source="feed.json")
    assert (feed.title, feed.language, feed.link, feed.error) == ("JSON News", "de", "https://j.example.org/", None)
    first, second = feed.items
    assert (first.guid, first.link, first.published) == (
        "1",
        "https://j.example.org/1",
        datetime(2023, 9, 13, 8, tzinfo=UTC),
    )
    assert first.text.startswith("Kim Jong-Un") and first.teaser_only
    assert second.published == datetime(2023, 9, 14, tzinfo=UTC) and not second.teaser_only
    drafts = feed.drafts()
    assert drafts[0].draft is not None and drafts[0].draft.lang == "de"
    assert drafts[1].draft is not None and drafts[1].draft.title.startswith("North Korean leader Kim Jong Un met")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", "empty feed document"),
        (
            b"<html><body><p>Just a web page</p></body></html>",
            "not a valid feed: no RSS, Atom or JSON Feed structure found",
        ),
        (b"this is not xml", "not a valid feed: "),
        (b'{"items": []}', "not a valid feed: JSON without a JSON Feed version"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": ', "not a valid feed: invalid JSON"),
        (b'{"version": "https://jsonfeed.org/version/1.1"}', "not a valid feed: JSON Feed without an 'items' list"),
    ],
)
def test_unusable_documents_give_an_error_not_an_exception(data: bytes, error: str) -> None:
    feed = parse_feed_bytes(data, source="bad")
    assert feed.error is not None and feed.error.startswith(error)
    assert feed.items == []
    [item] = feed.drafts()
    assert (item.source, item.status, item.reason) == ("bad", "rejected", feed.error)


def test_truncated_feed_keeps_what_could_be_read_and_says_so() -> None:
    truncated = RSS20[: RSS20.index(b"<item><title>Full story")]
    feed = parse_feed_bytes(truncated, source="cut.xml")
    assert feed.error is None
    assert feed.warning is not None and feed.warning.startswith("feed is not well-formed")
    [item] = feed.drafts()
    assert item.status == "repaired" and item.reason == feed.warning


def test_feed_files_are_read_from_disk(tmp_path: Path) -> None:
    (tmp_path / "a.rss").write_bytes(RSS20)
    (tmp_path / "b.json").write_text(
        json.dumps({"version": "https://jsonfeed.org/version/1", "items": [{"id": "x", "content_text": LONG_TEXT}]})
    )
    sources = [item.source for item in iter_path(tmp_path) if item.draft is not None]
    assert sources == [
        f"{tmp_path}/a.rss#item-1",
        f"{tmp_path}/a.rss#item-2",
        f"{tmp_path}/a.rss#item-3",
        f"{tmp_path}/b.json#item-1",
    ]


def test_items_text_overrules_a_wrong_feed_language() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Nachrichten</title><language>en-us</language>
<item><title>Kim trifft Putin</title><description>Der nordkoreanische Machthaber ist mit dem Zug nach Russland
gereist, wo er sich mit Kremlchef Putin treffen will.</description></item>
<item><title>Kim Jong-Un in Wladiwostok</title><description>Kim Jong-Un, Wladimir Putin, Sergej Schoigu,
Wladiwostok, Kosmodrom Wostotschny.</description></item></channel></rss>"""
    drafts = [item.draft for item in parse_feed_bytes(rss, source="n.rss").drafts()]
    assert [d.lang for d in drafts if d] == ["de", "en"]  # the second has no function words: the feed decides
