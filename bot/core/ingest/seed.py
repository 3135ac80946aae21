"""The seed format: plain UTF-8 text with an optional first token line ``date YYYY-MM`` / ``date YYYY-MM-DD``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# The header is "date" + one token; the article may follow on the same line (as in the shipped seed).
_HEADER = re.compile(r"^\s*date:?[ \t]+(\S+)[ \t]*(\r?\n|$)?", re.IGNORECASE)
_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


@dataclass(frozen=True, slots=True)
class SeedText:
    body: str
    published: date | None
    warning: str | None = None  # set when a bad header was dropped (the article is kept)


def parse_seed_text(text: str) -> SeedText:
    """Split off the optional date header. A malformed date is dropped with a warning, never fatal."""
    match = _HEADER.match(text)
    if not match or not _is_header(match):
        return SeedText(text.strip(), None)
    token = match.group(1)
    body = text[match.end() :].strip()
    parsed = _DATE.match(token)
    if not parsed:
        return SeedText(body, None, f"ignored bad date header {token[:20]!r} (want YYYY-MM or YYYY-MM-DD)")
    year, month, day = int(parsed.group(1)), int(parsed.group(2)), int(parsed.group(3) or 1)
    try:
        return SeedText(body, date(year, month, day))
    except ValueError:
        return SeedText(body, None, f"ignored bad date header {token!r} (no such date)")


def _is_header(match: re.Match[str]) -> bool:
    # "date 2023-09 Text…" and a lone "date <token>" line are headers; "Date night is back…" is prose.
    return match.group(1)[0].isdigit() or match.group(2) is not None
