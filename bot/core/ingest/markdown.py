"""Markdown to plain text: the first level-1 heading is the title, the syntax goes, the words stay."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_KEY = re.compile(r"^([A-Za-z_]+)[ \t]*:[ \t]*(.*?)[ \t]*$")
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```+|~~~+)")
_QUOTE = re.compile(r"^ {0,3}(?:>[ \t]?)+")
_LIST = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+")
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*$")
_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]+\S+")
_HTML_BLOCK_TAG = re.compile(r"</?[A-Za-z][^>\n]*>")

_INLINE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), ""),  # images: alt texts are rarely article prose
    (re.compile(r"!\[([^\]]*)\]\[[^\]]*\]"), ""),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links keep their words
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),
    (re.compile(r"`+([^`]+?)`+"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?!\*)"), r"\1"),
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),  # snake_case words stay intact
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])"), r"\1"),
)


@dataclass(slots=True)
class MarkdownText:
    title: str | None
    body: str
    meta: dict[str, str] = field(default_factory=dict)  # front matter ("title", "date", …), lower-case keys


def strip_inline(text: str) -> str:
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return _HTML_BLOCK_TAG.sub("", text)


def parse_markdown(source: str) -> MarkdownText:
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    meta, source = _split_front_matter(source)
    converter = _Converter()
    for line in source.split("\n"):
        converter.feed(line)
    converter.flush()
    return MarkdownText(converter.title, "\n\n".join(converter.blocks), meta)


def _split_front_matter(source: str) -> tuple[dict[str, str], str]:
    match = _FRONT_MATTER.match(source)
    if not match:
        return {}, source
    meta: dict[str, str] = {}
    for line in match.group(1).split("\n"):
        key = _FRONT_KEY.match(line)
        if key:
            meta[key.group(1).lower()] = key.group(2).strip("'\"")
    return meta, source[match.end() :]


class _Converter:
    """Line by line: paragraphs join their soft-wrapped lines, list items and headings stay separate."""

    def __init__(self) -> None:
        self.title: str | None = None
        self.blocks: list[str] = []
        self._paragraph: list[str] = []
        self._fence: str | None = None

    def feed(self, line: str) -> None:
        if self._fence is not None:
            self._in_fence(line)
            return
        fence = _FENCE.match(line)
        if fence:
            self.flush()
            self._fence = fence.group(1)[0]
            return
        if not line.strip():
            self.flush()
            return
        if self._paragraph and _SETEXT.match(line) and not _LIST.match(line):
            self._heading(1 if line.strip()[0] == "=" else 2, " ".join(self._paragraph))
            self._paragraph = []
            return
        if _RULE.match(line) or _TABLE_RULE.match(line) or _REF_DEF.match(line):
            self.flush()
            return
        self._content(line)

    def _in_fence(self, line: str) -> None:
        if line.lstrip().startswith(self._fence * 3):
            self._fence = None
            self.flush()
        elif line.strip():
            self._paragraph.append(line.strip())

    def _content(self, line: str) -> None:
        atx = _ATX.match(line)
        if atx:
            self.flush()
            self._heading(len(atx.group(1)), atx.group(2))
            return
        line = _QUOTE.sub("", line)
        listed = _LIST.match(line)
        if listed:
            self.flush()
            line = line[listed.end() :]
        if "|" in line and line.strip().startswith("|"):
            line = " ".join(cell.strip() for cell in line.strip().strip("|").split("|"))
        self._paragraph.append(line.strip())

    def _heading(self, level: int, text: str) -> None:
        text = strip_inline(text).strip()
        if not text:
            return
        if level == 1 and self.title is None:
            self.title = text
        else:
            self.blocks.append(text)

    def flush(self) -> None:
        if self._paragraph:
            text = strip_inline(" ".join(self._paragraph)).strip()
            if text:
                self.blocks.append(text)
            self._paragraph = []
