"""RSS 0.9x/1.0/2.0 and Atom (via feedparser) and JSON Feed 1.x documents → entries and drafts."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from bot.core.ingest.dates import BadDate, parse_date
from bot.core.ingest.guard import depth_refusal, json_refusal, xml_refusal
from bot.core.ingest.htmltext import html_to_text
from bot.core.ingest.items import TEASER_MAX_CHARS, DraftFields, ParsedItem, build_item, rejected
from bot.core.ingest.lang import normalise_lang
from bot.core.ingest.text import clean_line, clean_text

log = logging.getLogger(__name__)

JSON_FEED_PREFIX = "https://jsonfeed.org/version/"
_MAX_TTL_MINUTES = 7 * 24 * 60


@dataclass(frozen=True, slots=True)
class FeedEntry:
    guid: str | None
    link: str | None
    title: str
    text: str  # plain text, paragraphs separated by blank lines
    published: datetime | None  # aware, UTC
    teaser_only: bool


@dataclass(frozen=True, slots=True)
class FeedParse:
    source: str
    title: str | None = None
    ttl: int | None = None  # minutes, from RSS <ttl>
    items: list[FeedEntry] = field(default_factory=list)
    language: str | None = None  # "de", "en", … as the feed declares it
    link: str | None = None  # the site the feed belongs to
    error: str | None = None  # the document is not a usable feed; items is empty
    warning: str | None = None  # the document was malformed but entries could be read

    def drafts(self) -> list[ParsedItem]:
        """One ParsedItem per entry (``source#item-N``); a single rejected item when the feed is unusable."""
        if self.error:
            return [rejected(self.source, self.error)]
        return [self._draft(index, entry) for index, entry in enumerate(self.items, start=1)]

    def _draft(self, index: int, entry: FeedEntry) -> ParsedItem:
        where = f"{self.source}#item-{index}"
        repairs = [self.warning] if self.warning else []
        body = entry.text
        if not body:
            if not entry.title:
                return rejected(where, "feed item has neither a title nor text")
            body = entry.title  # headline-only feeds are common; the headline is all the news there is
            repairs.append("feed item has no text; used its title as the text")
        fields = DraftFields(
            body=body,
            title=entry.title or None,
            lang_hint=self.language,
            published=entry.published.date() if entry.published else None,
            source=self.title or self.source,
            url=entry.link,
            guid=entry.guid,
            teaser_only=entry.teaser_only or not entry.text,
            repairs=repairs,
        )
        return build_item(where, fields)


def parse_feed_bytes(
    data: bytes, *, source: str, content_type: str | None = None, base: str | None = None
) -> FeedParse:
    """Parse one feed document. Never raises: a broken document gives ``FeedParse(error=…)``.

    ``content_type`` is the HTTP header when the feed was fetched (it may name the charset); ``base`` the
    URL relative links resolve against (the final URL, or its ``Content-Location``), else ``source``.
    """
    try:
        if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
            return _parse_json_feed(data, source, base or source)
        return _parse_xml_feed(data, source, content_type, base or source)
    except Exception as exc:  # a parser bug on hostile input must not take the poller or a batch down
        log.warning("feed parser failed on %s", source, exc_info=True)
        return FeedParse(source, error=f"could not parse feed: {type(exc).__name__}: {exc}")


# --- RSS / Atom ----------------------------------------------------------------------------------------------


def _parse_xml_feed(data: bytes, source: str, content_type: str | None, base: str) -> FeedParse:
    if not data.strip():
        return FeedParse(source, error="empty feed document")
    refusal = xml_refusal(data)
    if refusal:
        return FeedParse(source, error=f"refused: {refusal}")
    # No content-location header: feedparser would also "resolve" guids against it, changing ids that
    # must stay stable. Relative links are resolved below instead.
    headers = {"content-type": content_type or "application/xml"}
    import feedparser  # at the first XML feed (0.1 s of CPU): a bot start parses none

    result = feedparser.parse(io.BytesIO(data), response_headers=headers, sanitize_html=True)
    problem = _bozo_message(result)
    if not result.entries and (problem or not result.version):
        what = problem or "no RSS, Atom or JSON Feed structure found"
        return FeedParse(source, error=f"not a valid feed: {what}")
    meta = result.feed
    return FeedParse(
        source=source,
        title=clean_line(_plain(meta.get("title", ""), meta.get("title_detail", {}).get("type", ""))) or None,
        ttl=_ttl(meta.get("ttl")),
        items=[_xml_entry(entry, base) for entry in result.entries],
        language=normalise_lang(meta.get("language")),
        link=_absolute(meta.get("link"), base),
        warning=f"feed is not well-formed ({problem}); read what could be read" if problem else None,
    )


def _bozo_message(result: Mapping[str, Any]) -> str | None:
    if not result.get("bozo"):
        return None
    exc = result.get("bozo_exception")
    import feedparser  # loaded already: the result came from it

    # feedparser flags these although the entries are fine (servers often label feeds text/html or name the
    # wrong charset); everything else means the XML was broken.
    if isinstance(exc, (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)):
        return None
    if _is_html_entity_only(exc):
        return None
    return str(exc) or type(exc).__name__


def _is_html_entity_only(exc: object) -> bool:
    """The strict XML parser gave up on an HTML entity (``&nbsp;``, ``&eacute;``) that XML does not define;
    feedparser's loose parser then resolves it exactly as a browser would, so nothing was lost."""
    message = getattr(exc, "getMessage", None)
    return callable(message) and message() == "undefined entity"


def _absolute(link: object, base: str) -> str | None:
    if not isinstance(link, str) or not link.strip():
        return None
    link = link.strip()
    return urljoin(base, link) if base.startswith(("http://", "https://")) else link


def _xml_entry(entry: Mapping[str, Any], base: str) -> FeedEntry:
    text = _entry_text(entry)
    link = _absolute(entry.get("link"), base)
    moment = entry.get("published_parsed") or entry.get("updated_parsed")
    return FeedEntry(
        guid=entry.get("id") or link,
        link=link,
        title=_plain(entry.get("title", ""), entry.get("title_detail", {}).get("type", "")),
        text=text,
        published=_from_struct(moment),
        teaser_only=len(text) < TEASER_MAX_CHARS,
    )


def _entry_text(entry: Mapping[str, Any]) -> str:
    # Full content (content:encoded, atom:content) beats the summary; the longest rendering wins.
    candidates = [(c.get("value", ""), c.get("type", "")) for c in entry.get("content", [])]
    if entry.get("summary"):
        candidates.append((entry["summary"], entry.get("summary_detail", {}).get("type", "text/html")))
    texts = [_plain(value, kind) for value, kind in candidates if value]
    return max(texts, key=len, default="")


def _plain(value: str, kind: str) -> str:
    if kind == "text/plain":
        return clean_text(value)
    return html_to_text(value)


def _from_struct(moment: Any) -> datetime | None:
    if not moment:
        return None
    try:
        return datetime(*moment[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _ttl(value: object) -> int | None:
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return min(minutes, _MAX_TTL_MINUTES) if minutes > 0 else None


# --- JSON Feed ------------------------------------------------------------------------------------------------


def _parse_json_feed(data: bytes, source: str, base: str) -> FeedParse:
    refusal = json_refusal(data) or depth_refusal(data)  # content_html is HTML too
    if refusal:
        return FeedParse(source, error=f"refused: {refusal}")
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return FeedParse(source, error="not a valid feed: JSON Feed is not UTF-8")
    except json.JSONDecodeError as exc:
        return FeedParse(source, error=f"not a valid feed: invalid JSON: {exc.msg} (line {exc.lineno})")
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(JSON_FEED_PREFIX):
        return FeedParse(source, error=f"not a valid feed: JSON without a JSON Feed version ({JSON_FEED_PREFIX}…)")
    raw_items = document.get("items")
    if not isinstance(raw_items, list):
        return FeedParse(source, error="not a valid feed: JSON Feed without an 'items' list")
    return FeedParse(
        source=source,
        title=clean_line(str(document.get("title") or "")) or None,
        items=[_json_entry(item, base) for item in raw_items if isinstance(item, dict)],
        language=normalise_lang(document.get("language")),
        link=_absolute(document.get("home_page_url"), base),
    )


def _json_entry(item: Mapping[str, Any], base: str) -> FeedEntry:
    texts = [
        clean_text(_str(item.get("content_text")) or ""),
        html_to_text(_str(item.get("content_html")) or ""),
        html_to_text(_str(item.get("summary")) or ""),
    ]
    text = max(texts, key=len)
    link = _absolute(item.get("url") or item.get("external_url"), base)
    guid = item.get("id")
    return FeedEntry(
        guid=str(guid) if guid not in (None, "") else link,
        link=link,
        title=clean_line(_str(item.get("title")) or ""),
        text=text,
        published=_json_date(item.get("date_published") or item.get("date_modified")),
        teaser_only=len(text) < TEASER_MAX_CHARS,
    )


def _json_date(value: object) -> datetime | None:
    try:
        parsed = parse_date(value)
    except BadDate:
        return None
    if parsed.moment is None and parsed.day is not None:
        return datetime(parsed.day.year, parsed.day.month, parsed.day.day, tzinfo=UTC)
    return parsed.moment


def _str(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
