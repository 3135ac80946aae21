"""feedparser's test corpus: the documents, the HTTP headers each implies, and its ``Expect:`` checks."""

from __future__ import annotations

import ast
import html
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tests.conftest import REPO, SHARED

# Beside the repository (a clone next to shared/), or two levels up (a git worktree under wt/).
CORPUS = next(
    (
        p
        for p in (SHARED / "data" / "feedparser-tests", REPO.parent.parent / "shared" / "data" / "feedparser-tests")
        if p.is_dir()
    ),
    SHARED / "data" / "feedparser-tests",
)
# The corpus's own test server ran here; its "document URI" expectations name it.
CORPUS_ORIGIN = "http://127.0.0.1:8097/"
_JOINERS = "\u200c\u200d"  # kept by the product outside Latin words (emoji, Indic and Persian need them)
_TYPES = {".xml": "application/xml", ".rdf": "application/rdf+xml", ".json": "application/feed+json"}
_HEADER = re.compile(rb"^Header:\s*([\w-]+):[ \t]*(.*?)\s*$", re.MULTILINE)
_EXPECT = re.compile(rb"^Expect:\s*(.*?)\s*$", re.MULTILINE)
# The expectations this suite can compare with what a reader sees: a title or link of the feed or an entry.
_SIMPLE = re.compile(
    r"^(?:not bozo and )?(feed|entries\[(\d+)\])\['(title|link)'\]\s*==\s*(u?'(?:[^'\\]|\\.)*'|u?\"(?:[^\"\\]|\\.)*\")$"
)


@dataclass(frozen=True)
class Document:
    path: Path
    headers: dict[str, str] = field(default_factory=dict, hash=False)
    expect: str = ""

    @property
    def name(self) -> str:
        return self.path.relative_to(CORPUS).as_posix()

    @property
    def content_type(self) -> str:
        """The file's own ``Header: Content-type`` line, else the type its extension implies."""
        return self.headers.get("content-type") or _TYPES.get(self.path.suffix, "application/octet-stream")


@dataclass(frozen=True)
class Expectation:
    entry: int | None  # None: the feed itself
    key: str  # "title" | "link"
    value: str


@cache
def documents() -> tuple[Document, ...]:
    found = []
    for path in sorted(CORPUS.rglob("*")):
        if not path.is_file() or path.name == "LICENSE":
            continue
        head = path.read_bytes()[:4096]
        headers = {m.group(1).decode().lower(): m.group(2).decode("latin-1") for m in _HEADER.finditer(head)}
        expect = _EXPECT.search(head)
        found.append(Document(path, headers, expect.group(1).decode("utf-8", "replace") if expect else ""))
    return tuple(found)


def expectation(document: Document) -> Expectation | None:
    match = _SIMPLE.match(document.expect)
    if not match:
        return None
    _, index, key, literal = match.groups()
    value = ast.literal_eval(literal.removeprefix("u"))
    return Expectation(int(index) if index is not None else None, key, value)


def visible(value: str, kind: str) -> str:
    """What a reader sees of feedparser's value: HTML values without tags and with entities resolved,
    whitespace collapsed, invisible formatting characters (soft hyphen, direction marks) gone as the
    product drops them on purpose. Deliberately independent of the product's own HTML reader."""
    if kind != "text/plain":
        value = html.unescape(re.sub(r"<[^>]*>", "", value))
    value = "".join(ch for ch in value if unicodedata.category(ch) != "Cf" or ch in _JOINERS)
    return " ".join(value.split())
