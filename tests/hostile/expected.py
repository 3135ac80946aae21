"""Comparing what the product read from a corpus document with the corpus's own ``Expect:`` line."""

from __future__ import annotations

import io
from functools import cache
from urllib.parse import urljoin

import feedparser

from bot.core.ingest import FeedParse, parse_feed_bytes
from tests.hostile.corpus import CORPUS_ORIGIN, Document, Expectation, expectation, visible


def served_url(document: Document, origin: str = CORPUS_ORIGIN) -> str:
    return urljoin(origin, document.name)


def link_base(document: Document, url: str) -> str:
    """As feedparser resolves: against ``Content-Location`` when it is an http(s) URL, else the URL."""
    location = document.headers.get("content-location")
    joined = urljoin(url, location) if location else url
    return joined if joined.startswith(("http://", "https://")) else url


@cache
def verdict(document: Document) -> FeedParse:
    """The parse as served by the corpus's own server, computed once per session: the Expect checks and
    the HTTP run compare with it (an error, or the items; a different origin changes neither)."""
    return parse_as_served(document)


def parse_as_served(document: Document, origin: str = CORPUS_ORIGIN) -> FeedParse:
    url = served_url(document, origin)
    return parse_feed_bytes(
        document.path.read_bytes(), source=url, content_type=document.content_type, base=link_base(document, url)
    )


@cache
def reference(document: Document) -> feedparser.FeedParserDict:
    """feedparser's own reading of the document, with the content type it is served with."""
    return feedparser.parse(
        io.BytesIO(document.path.read_bytes()), response_headers={"content-type": document.content_type}
    )


def reader_text(document: Document, wanted: Expectation) -> str:
    """The expected value as a reader sees it; whether it is HTML is feedparser's own verdict."""
    if wanted.key == "link":
        return wanted.value
    parsed = reference(document)
    holder = parsed.feed if wanted.entry is None else parsed.entries[wanted.entry]
    kind = holder.get("title_detail", {}).get("type", "text/html")
    return visible(wanted.value, kind)


def mismatch(document: Document, parsed: FeedParse, origin: str = CORPUS_ORIGIN) -> str | None:
    """Why our reading differs from the expectation (``None`` when it agrees or there is none to check)."""
    wanted = expectation(document)
    if wanted is None or parsed.error:
        return None
    if wanted.entry is None:
        got = parsed.title if wanted.key == "title" else parsed.link
    elif wanted.entry < len(parsed.items):
        entry = parsed.items[wanted.entry]
        got = entry.title if wanted.key == "title" else entry.link
    else:
        return f"entry {wanted.entry} missing"
    expected = reader_text(document, wanted).replace(CORPUS_ORIGIN, origin)
    return None if (got or "") == expected else f"{wanted.key}: expected {expected!r}, got {got!r}"
