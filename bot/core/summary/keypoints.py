"""Publisher key-points boxes ("Das Wichtigste in Kürze", "Key points", …): the best summary there is."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.summary.cleaning import credit_stripped, is_heading
from bot.core.summary.sentences import split_block

_BOX_HEADING = re.compile(
    r"^\W{0,3}(?:Das Wichtigste (?:in Kürze|im Überblick|auf einen Blick|zusammengefasst)|Das Wichtigste"
    r"|Auf einen Blick|In Kürze|Kurz und knapp|Kurz gesagt|Kurzfassung|Zusammenfassung|Die Fakten"
    r"|Key (?:points|takeaways|facts)|At a glance|In brief|In short|Summary|The essentials|Quick read"
    r"|What we know|TL;?DR)\b\s*[:.–—-]?\s*",
    re.IGNORECASE,
)
_ITEM_MARK = re.compile(r"^(?:[•▪◦●■□►▶➤✓✔*·]|[-–—](?=\s)|\d{1,2}[.)](?=\s))\s*")
_MAX_ITEMS = 8
_MAX_ITEM_CHARS = 400
_MAX_PROSE_ITEM_CHARS = 300
_MIN_BARE_WORDS = 5


@dataclass(frozen=True, slots=True)
class KeyPoints:
    items: tuple[str, ...]
    first_block: int  # the heading's block
    end_block: int  # one past the last item's block


def find_key_points(blocks: list[str], lang: str) -> KeyPoints | None:
    """The first box with at least two items; its heading may share a block with the first item."""
    for index, block in enumerate(blocks):
        heading = _BOX_HEADING.match(block)
        if not heading:
            continue
        rest = block[heading.end() :].strip()
        if rest and not (rest[0].isupper() or rest[0].isdigit() or _ITEM_MARK.match(rest)):
            continue  # "In Kürze soll …", "Summary judgment was …": ordinary prose
        items, end = _collect_items(blocks, index, rest, lang)
        if len(items) >= 2:
            return KeyPoints(tuple(items), index, end)
    return None


def _collect_items(blocks: list[str], index: int, rest: str, lang: str) -> tuple[list[str], int]:
    """The items after a heading, and the index one past the last block they used. Items keep one style:
    a bullet-marked list ends at the first unmarked block; unpunctuated items are accepted only when the
    first item is unpunctuated too (else an unpunctuated line is the next sub-heading)."""
    items: list[str] = []
    marked: bool | None = None
    candidates = ([rest] if rest else []) + blocks[index + 1 :]
    consumed = 0
    for position, block in enumerate(candidates):
        is_marked = bool(_ITEM_MARK.match(block))
        item, _ = credit_stripped(_ITEM_MARK.sub("", block).strip())
        if (marked and not is_marked) or len(items) >= _MAX_ITEMS:
            break
        bare = bool(items) and is_heading(items[0])
        if not _looks_like_item(item, is_marked, bare or not items, lang):
            break
        if marked is None and not (rest and position == 0):
            marked = is_marked
        items.append(item)
        consumed = position + 1
    skipped_rest = 1 if rest else 0
    return items, index + 1 + consumed - skipped_rest


def _looks_like_item(item: str, is_marked: bool, bare_allowed: bool, lang: str) -> bool:
    if not item or len(item) > _MAX_ITEM_CHARS:
        return False
    if is_marked:
        return True
    if is_heading(item):
        # a box of unpunctuated statements ("Kim reist nach Russland"), not a short label
        return bare_allowed and len(item.split()) >= _MIN_BARE_WORDS and not item.endswith(":")
    # Unmarked items are one statement each; a prose paragraph ends the box.
    return len(split_block(item, lang)) == 1 and len(item) <= _MAX_PROSE_ITEM_CHARS
