"""A saved web page → the article's main text (trafilatura), its title and date."""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass

from bot.core.ingest.dates import BadDate, parse_date
from bot.core.ingest.htmltext import page_text
from bot.core.ingest.items import DraftFields
from bot.core.ingest.text import Decoded, clean_line, decode_bytes

log = logging.getLogger(__name__)

_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_HTML_LANG = re.compile(r"<html\b[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*)", re.IGNORECASE)
_HEAD_BYTES = 4096
# htmldate's extensive search guesses dates from any number in the page; a wrong date is worse than none.
_DATE_PARAMS = {"extensive_search": False, "original_date": True}
# trafilatura keeps page chrome on short pages (its baseline fallback takes all text), so cut it first.
# An <article>'s own <header> holds its headline and byline and stays.
_CHROME_XPATH = ["//nav", "//aside", "//footer", "//form", "//header[not(ancestor::article)]"]


@dataclass(frozen=True, slots=True)
class PageParts:
    title: str | None
    body: str
    date: str | None
    url: str | None


def decode_html(data: bytes) -> Decoded:
    """Honour a declared ``<meta charset>``; otherwise the usual UTF-8 → cp1252 chain."""
    declared = _CHARSET.search(data[:_HEAD_BYTES])
    if declared:
        name = declared.group(1).decode("ascii", "ignore")
        try:
            if codecs.lookup(name).name not in {"utf-8", "utf-8-sig"}:
                return Decoded(data.decode(name))
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration is common; fall back to guessing
    return decode_bytes(data)


def html_fields(html: str) -> DraftFields:
    parts = _extract(html) or _fallback(html)
    fields = DraftFields(body=parts.body, title=parts.title, url=parts.url)
    lang = _HTML_LANG.search(html[:_HEAD_BYTES])
    fields.lang_hint = lang.group(1) if lang else None
    try:
        fields.published = parse_date(parts.date).day
    except BadDate:
        fields.published = None  # a page date we cannot read is metadata noise, not worth a repair note
    return fields


def _extract(html: str) -> PageParts | None:
    import trafilatura  # imported on first use: every command that touches bot.core.ingest would pay for it

    try:
        document = trafilatura.bare_extraction(
            html,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            date_extraction_params=_DATE_PARAMS,
            prune_xpath=_CHROME_XPATH,
        )
    except Exception:  # trafilatura/lxml on odd markup: fall back to our own reader rather than fail
        log.debug("trafilatura failed; using the plain HTML reader", exc_info=True)
        return None
    if document is None or not document.text:
        return None
    title = clean_line(document.title or "") or None
    lines = [line.strip() for line in document.text.split("\n") if line.strip()]
    if lines and title and clean_line(lines[0]) == title:
        lines = lines[1:]  # the page's <h1> repeats the title
    return PageParts(title, "\n\n".join(lines), document.date, document.url)


def _fallback(html: str) -> PageParts:
    title, text = page_text(html)
    first, _, rest = text.partition("\n\n")
    if title and clean_line(first) == title:
        text = rest
    return PageParts(title or None, text, None, None)
