"""Safe-HTML building blocks: article text on one escaped line, and links only to absolute http(s) URLs."""

from __future__ import annotations

import html
import re
import unicodedata

from bot.core.ingest.text import clean_url

_SPACES = re.compile(r"\s+")


def one_line(text: str) -> str:
    """Article text on one line: tags may not span line breaks, and control characters render badly."""
    cleaned = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return _SPACES.sub(" ", cleaned).strip()


def escape(text: str) -> str:
    return html.escape(one_line(text), quote=True)


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) link (never ``javascript:`` and the like), else None.

    Links were checked at ingest; they are checked again where they are shown because a row may come from
    an older version or another tool."""
    return clean_url(url)


def link(label_html: str, url: str | None) -> str:
    """``label_html`` (already escaped) linked to ``url`` when the URL is safe to link."""
    target = safe_url(url)
    return f'<a href="{html.escape(target, quote=True)}">{label_html}</a>' if target else label_html
