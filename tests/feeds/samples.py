"""Real RSS 2.0, Atom 1.0 and JSON Feed 1.1 documents built from a few items."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Item:
    guid: str
    title: str
    text: str
    published: datetime
    link: str | None = None


def story(n: int, topic: str = "Hafen") -> str:
    """A distinct, article-length text per ``n``."""
    return (
        f"Meldung {n}: Im {topic} von Rostock haben Beschäftigte am Morgen die Arbeit niedergelegt. "
        f"Die Gewerkschaft fordert {n + 3} Prozent mehr Lohn und eine kürzere Wochenarbeitszeit. "
        f"Die Reederei Nummer {n} kündigte Verhandlungen für die kommende Woche an."
    )


def rss(items: list[Item], *, title: str = "Test RSS", ttl: int | None = None) -> bytes:
    entries = "".join(
        "<item>"
        f"<title>{escape(i.title)}</title>"
        f'<guid isPermaLink="false">{escape(i.guid)}</guid>'
        + (f"<link>{escape(i.link)}</link>" if i.link else "")
        + f"<description>{escape(i.text)}</description>"
        f"<pubDate>{format_datetime(i.published)}</pubDate>"
        "</item>"
        for i in items
    )
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://example.org/</link><description>test</description>"
        f"<language>de</language>{ttl_tag}{entries}</channel></rss>"
    ).encode()


def atom(items: list[Item], *, title: str = "Test Atom") -> bytes:
    entries = "".join(
        "<entry>"
        f"<id>{escape(i.guid)}</id><title>{escape(i.title)}</title>"
        f"<updated>{i.published.isoformat()}</updated>"
        + (f'<link href="{escape(i.link)}"/>' if i.link else "")
        + f'<content type="text">{escape(i.text)}</content>'
        "</entry>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:test:atom</id><updated>2026-03-01T12:00:00Z</updated>"
        f"{entries}</feed>"
    ).encode()


def json_feed(items: list[Item], *, title: str = "Test JSON") -> bytes:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "language": "de",
        "items": [
            {
                "id": i.guid,
                "title": i.title,
                "content_text": i.text,
                "date_published": i.published.isoformat(),
                **({"url": i.link} if i.link else {}),
            }
            for i in items
        ],
    }
    return json.dumps(document).encode()
