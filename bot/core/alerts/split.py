"""Splitting safe-HTML messages under a platform's length limit without breaking markup.

A part is cut preferably between lines, else at a space, else (one over-long word) anywhere outside a
tag or entity. Tags open at a cut are closed at the end of the part and reopened at the start of the
next, so every part is valid markup on its own.

Two measures must both stay within the limit: the raw HTML length in characters, and the length of the
text the platform counts — plain text after entity parsing, in UTF-16 code units as Telegram counts
(an emoji outside the Basic Multilingual Plane counts twice).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_TOKEN = re.compile(r"<[^<>]*>|&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});|[\s\S]")
_TAG_NAME = re.compile(r"^</?\s*([A-Za-z][A-Za-z0-9]*)")
MIN_LIMIT = 64  # room for a few nested tags and the longest entity; below that markup cannot be kept whole


@dataclass(frozen=True, slots=True)
class _Unit:
    raw: str
    weight: int  # UTF-16 code units of the text it stands for; tags weigh nothing
    kind: str  # "text" | "open" | "close" | "void"
    name: str = ""  # tag name for open/close

    @property
    def is_space(self) -> bool:
        return self.kind == "text" and self.raw.isspace()

    @property
    def is_newline(self) -> bool:
        return self.kind == "text" and self.raw == "\n"


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def plain_text(markup: str) -> str:
    """The text a platform shows for safe-HTML markup: tags dropped, entities decoded."""
    return "".join(html.unescape(unit.raw) for unit in _units(markup) if unit.kind == "text")


def plain_length(markup: str) -> int:
    """Length of the shown text in UTF-16 code units (what Telegram's 4096 limit counts)."""
    return sum(unit.weight for unit in _units(markup))


def _units(markup: str) -> list[_Unit]:
    units = []
    for raw in _TOKEN.findall(markup):
        if raw.startswith("<") and len(raw) > 1:
            units.append(_tag_unit(raw))
        else:
            units.append(
                _Unit(
                    raw,
                    utf16_length(html.unescape(raw)) if raw.startswith("&") else utf16_length(raw),
                    "text",
                )
            )
    return units


def _tag_unit(raw: str) -> _Unit:
    match = _TAG_NAME.match(raw)
    name = match.group(1).lower() if match else ""
    if raw.startswith("</"):
        return _Unit(raw, 0, "close", name)
    if raw.endswith("/>") or not name:
        return _Unit(raw, 0, "void", name)
    return _Unit(raw, 0, "open", name)


def _closing(stack: list[_Unit]) -> str:
    return "".join(f"</{unit.name}>" for unit in reversed(stack))


def _apply(stack: list[_Unit], unit: _Unit) -> None:
    """Track open tags; a stray closing tag (no matching open one) changes nothing."""
    if unit.kind == "open":
        stack.append(unit)
    elif unit.kind == "close":
        for depth in range(len(stack) - 1, -1, -1):
            if stack[depth].name == unit.name:
                del stack[depth:]
                break


class _Splitter:
    def __init__(self, markup: str, limit: int) -> None:
        self.units = _units(markup)
        self.limit = limit
        self.parts: list[str] = []

    def run(self) -> list[str]:
        position, stack = 0, []
        while position < len(self.units):
            position, stack = self._skip_to_content(position, stack)
            if position >= len(self.units):
                break
            position, stack = self._emit_part(position, stack)
        return self.parts

    def _skip_to_content(self, position: int, stack: list[_Unit]) -> tuple[int, list[_Unit]]:
        """Whitespace and closing tags at a cut belong to neither part."""
        stack = list(stack)
        while position < len(self.units):
            unit = self.units[position]
            if unit.is_space or (unit.kind == "close" and stack and stack[-1].name == unit.name):
                _apply(stack, unit)
                position += 1
            else:
                break
        return position, stack

    def _emit_part(self, start: int, opened: list[_Unit]) -> tuple[int, list[_Unit]]:
        stack = list(opened)
        raw = sum(len(unit.raw) for unit in opened)
        weight = 0
        end = start
        last_newline = last_space = None  # (cut index, stack there)
        last_fit = None
        while end < len(self.units):
            unit = self.units[end]
            if unit.is_newline:
                last_newline = (end, list(stack))
            elif unit.is_space:
                last_space = (end, list(stack))
            after = list(stack)
            _apply(after, unit)
            if raw + len(unit.raw) + len(_closing(after)) > self.limit or weight + unit.weight > self.limit:
                break
            raw += len(unit.raw)
            weight += unit.weight
            stack = after
            end += 1
            if unit.kind == "text" and not unit.is_space:
                last_fit = (end, list(stack))
        if end >= len(self.units):
            cut, cut_stack = end, stack
        elif last_newline is not None:
            cut, cut_stack = last_newline
        elif last_space is not None:
            cut, cut_stack = last_space
        elif last_fit is not None:
            cut, cut_stack = last_fit
        else:
            return self._emit_bare(start, opened)
        self._add(opened, start, cut, cut_stack)
        return cut, cut_stack

    def _emit_bare(self, start: int, opened: list[_Unit]) -> tuple[int, list[_Unit]]:
        """The open tags alone leave no room (a huge link target): send text without their markup."""
        position, stack = start, list(opened)
        text: list[str] = []
        raw = weight = 0
        while position < len(self.units):
            unit = self.units[position]
            too_big = raw + len(unit.raw) > self.limit or weight + unit.weight > self.limit
            if position > start and (unit.is_newline or (unit.kind == "text" and too_big)):
                break
            if unit.kind == "text":
                text.append(unit.raw)
                raw, weight = raw + len(unit.raw), weight + unit.weight
            _apply(stack, unit)
            position += 1
        part = "".join(text).strip()
        if part:
            self.parts.append(part)
        return position, stack

    def _add(self, opened: list[_Unit], start: int, cut: int, cut_stack: list[_Unit]) -> None:
        units = self.units[start:cut]
        # Whitespace before the cut is dropped, also where closing tags follow it ("word </b>").
        content_end = len(units)
        while content_end and (units[content_end - 1].is_space or units[content_end - 1].kind == "close"):
            content_end -= 1
        body = "".join(unit.raw for unit in units[:content_end])
        body += "".join(unit.raw for unit in units[content_end:] if unit.kind == "close")
        part = "".join(unit.raw for unit in opened) + body + _closing(cut_stack)
        if plain_text(part).strip():
            self.parts.append(part)


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
