"""Splitting safe-HTML messages under a platform's length limit without breaking markup.

A part is cut preferably between lines, else at a space, else (one over-long word) between chunks of
the word, never inside a tag or an entity. Tags open at a cut are closed at the end of the part and
reopened at the start of the next, so every part is valid markup on its own.

Two measures must both stay within the limit: the raw HTML length in characters, and the length of the
text the platform counts — plain text after entity parsing, in UTF-16 code units as Telegram counts
(an emoji outside the Basic Multilingual Plane counts twice).
"""

from __future__ import annotations

import html
import re
from typing import NamedTuple

# Tags, entities, a newline, a run of other whitespace, a word chunk, or a stray "<" / "&".
# Words are chunked so an over-long word can be hard-cut without a second pass.
_WORD_CHUNK = 16
_TOKEN = re.compile(
    r"<[^<>]*>|&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});|\n|[^\S\n]+"
    rf"|[^\s<&]{{1,{_WORD_CHUNK}}}|[<&]"
)
_TAG_NAME = re.compile(r"^</?\s*([A-Za-z][A-Za-z0-9]*)")
MIN_LIMIT = 64  # room for a few nested tags and the longest entity; below that markup cannot be kept whole

TEXT, SPACE, NEWLINE, OPEN, CLOSE, VOID = range(6)


class _Unit(NamedTuple):
    raw: str
    weight: int  # UTF-16 code units of the text it stands for; tags weigh nothing
    kind: int
    name: str = ""  # tag name for OPEN / CLOSE


Stack = tuple[_Unit, ...]  # the open tags, outermost first; immutable so cut points can keep a reference


def utf16_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) >> 1


def _units(markup: str) -> list[_Unit]:
    units = []
    for raw in _TOKEN.findall(markup):
        first = raw[0]
        if first == "<" and len(raw) > 1:
            units.append(_tag_unit(raw))
        elif first == "&" and len(raw) > 1:
            units.append(_Unit(raw, utf16_length(html.unescape(raw)), TEXT))
        elif raw == "\n":
            units.append(_Unit(raw, 1, NEWLINE))
        elif raw.isspace():
            units.append(_Unit(raw, utf16_length(raw), SPACE))
        else:
            units.append(_Unit(raw, utf16_length(raw), TEXT))
    return units


def _tag_unit(raw: str) -> _Unit:
    match = _TAG_NAME.match(raw)
    name = match.group(1).lower() if match else ""
    if raw.startswith("</"):
        return _Unit(raw, 0, CLOSE, name)
    if raw.endswith("/>") or not name:
        return _Unit(raw, 0, VOID, name)
    return _Unit(raw, 0, OPEN, name)


def plain_text(markup: str) -> str:
    """The text a platform shows for safe-HTML markup: tags dropped, entities decoded."""
    return "".join(html.unescape(unit.raw) for unit in _units(markup) if unit.kind in (TEXT, SPACE, NEWLINE))


def plain_length(markup: str) -> int:
    """Length of the shown text in UTF-16 code units (what Telegram's 4096 limit counts)."""
    return sum(unit.weight for unit in _units(markup))


def _after(stack: Stack, unit: _Unit) -> Stack:
    """The open tags after ``unit``; a stray closing tag (nothing to close) changes nothing."""
    if unit.kind == OPEN:
        return (*stack, unit)
    if unit.kind == CLOSE:
        for depth in range(len(stack) - 1, -1, -1):
            if stack[depth].name == unit.name:
                return stack[:depth]
    return stack


def _closing(stack: Stack) -> str:
    return "".join(f"</{unit.name}>" for unit in reversed(stack))


def _opening(stack: Stack) -> str:
    return "".join(unit.raw for unit in stack)


class _Splitter:
    def __init__(self, markup: str, limit: int) -> None:
        self.units = _units(markup)
        self.limit = limit
        self.parts: list[str] = []

    def run(self) -> list[str]:
        position, stack = 0, ()
        while position < len(self.units):
            position, stack = self._skip_to_content(position, stack)
            if position < len(self.units):
                position, stack = self._emit_part(position, stack)
        return self.parts

    def _skip_to_content(self, position: int, stack: Stack) -> tuple[int, Stack]:
        """Whitespace and closing tags at a cut belong to neither part."""
        while position < len(self.units):
            unit = self.units[position]
            closes_top = unit.kind == CLOSE and stack and stack[-1].name == unit.name
            if unit.kind not in (SPACE, NEWLINE) and not closes_top:
                break
            stack = _after(stack, unit)
            position += 1
        return position, stack

    def _emit_part(self, start: int, opened: Stack) -> tuple[int, Stack]:
        """Take as much as fits from ``start``; cut at the last newline, else space, else word chunk."""
        stack = opened
        raw, weight = len(_opening(opened)), 0
        close_len = len(_closing(stack))
        end = start
        at_newline = at_space = at_chunk = None  # (cut index, open tags there)
        while end < len(self.units):
            unit = self.units[end]
            if unit.kind == NEWLINE:
                at_newline = (end, stack)
            elif unit.kind == SPACE:
                at_space = (end, stack)
            following, following_close = stack, close_len
            if unit.kind in (OPEN, CLOSE):
                following = _after(stack, unit)
                following_close = len(_closing(following))
            if raw + len(unit.raw) + following_close > self.limit or weight + unit.weight > self.limit:
                break
            raw, weight = raw + len(unit.raw), weight + unit.weight
            stack, close_len = following, following_close
            end += 1
            if unit.kind == TEXT:
                at_chunk = (end, stack)
        cut = (end, stack) if end >= len(self.units) else at_newline or at_space or at_chunk
        if cut is None:
            return self._emit_bare(start, opened)
        self._add(opened, start, *cut)
        return cut

    def _emit_bare(self, start: int, opened: Stack) -> tuple[int, Stack]:
        """The open tags alone leave no room (a huge link target): send text without their markup."""
        position, stack = start, opened
        text: list[str] = []
        raw = weight = 0
        while position < len(self.units):
            unit = self.units[position]
            is_text = unit.kind in (TEXT, SPACE)
            too_big = raw + len(unit.raw) > self.limit or weight + unit.weight > self.limit
            if position > start and (unit.kind == NEWLINE or (is_text and too_big)):
                break
            if is_text:
                text.append(unit.raw)
                raw, weight = raw + len(unit.raw), weight + unit.weight
            stack = _after(stack, unit)
            position += 1
        part = "".join(text).strip()
        if part:
            self.parts.append(part)
        return position, stack

    def _add(self, opened: Stack, start: int, cut: int, cut_stack: Stack) -> None:
        units = self.units[start:cut]
        if not any(unit.kind == TEXT for unit in units):
            return  # only whitespace and tags: nothing to show
        # Whitespace before the cut is dropped, also where closing tags follow it ("word </b>").
        content_end = len(units)
        while content_end and units[content_end - 1].kind in (SPACE, NEWLINE, CLOSE):
            content_end -= 1
        body = "".join(unit.raw for unit in units[:content_end])
        body += "".join(unit.raw for unit in units[content_end:] if unit.kind == CLOSE)
        self.parts.append(_opening(opened) + body + _closing(cut_stack))


def split_message(markup: str, limit: int) -> list[str]:
    """Cut ``markup`` into parts that each fit ``limit`` (raw characters and shown UTF-16 length).

    Lines are kept whole where they fit; an over-long line is cut at a word boundary outside tags, with
    its open tags closed and reopened. Blank parts are dropped; an empty message gives no parts.
    """
    if limit < MIN_LIMIT:
        raise ValueError(f"message limit {limit} is too small to keep markup intact (minimum {MIN_LIMIT})")
    if len(markup) <= limit and plain_length(markup) <= limit:
        return [markup.strip()] if plain_text(markup).strip() else []
    return _Splitter(markup, limit).run()
