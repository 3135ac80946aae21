"""Blocking document work for the poller, run in worker threads: parsing a fetched feed into drafts and
extracting a linked page's main text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.ingest import FeedParse, ParsedItem, parse_feed_bytes
from bot.core.ingest.guard import depth_refusal


@dataclass(frozen=True, slots=True)
class FeedDocument:
    title: str | None
    ttl: int | None
    error: str | None
    items: list[tuple[ParsedItem, datetime | None]]  # each draft with its entry's exact publication time


def parse_document(body: bytes, source: str, content_type: str | None, base: str | None = None) -> FeedDocument:
    """Blocking: parse the feed and build its drafts (the parser never raises; see ``FeedParse.error``)."""
    parsed: FeedParse = parse_feed_bytes(body, source=source, content_type=content_type, base=base)
    if parsed.error:
        return FeedDocument(parsed.title, parsed.ttl, parsed.error, [])
    # drafts() yields one item per entry, in entry order.
    drafts = parsed.drafts()
    published = [entry.published for entry in parsed.items]
    return FeedDocument(parsed.title, parsed.ttl, None, list(zip(drafts, published, strict=True)))


def clean_title(title: object) -> str | None:
    """A feed's title as one line of at most 200 characters (it is shown in chat lists)."""
    if not isinstance(title, str):
        return None
    text = " ".join(title.split())
    return text[:200] or None


def extract_main_text(html: bytes, url: str) -> str | None:
    """trafilatura's main-text extraction (CPU-bound: run in a worker thread); ``None`` for a page nested
    too deeply to parse safely."""
    if depth_refusal(html):
        return None
    import trafilatura  # heavy (lxml, justext): loaded on the first page, not with every command

    return trafilatura.extract(html, url=url, include_comments=False, include_tables=False)
