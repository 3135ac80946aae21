"""A strict checker for the safe-HTML subset, used by the compose and split tests."""

from __future__ import annotations

import re
from html.parser import HTMLParser

ALLOWED = {"b", "i", "a", "code"}
_TAG = re.compile(r"<[^<>]*>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")


class SubsetChecker(HTMLParser):
    """Parses one message (or line) and records every way it breaks the safe-HTML subset."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED:
            self.problems.append(f"tag <{tag}> outside the subset")
        if tag == "a" and [name for name, _ in attrs] != ["href"]:
            self.problems.append(f"<a> with attributes {attrs}")
        if tag != "a" and attrs:
            self.problems.append(f"<{tag}> with attributes {attrs}")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and "\n" in data:
            self.problems.append(f"a tag spans a line break: {self.stack}")
        self.text.append(data)


def problems(markup: str) -> list[str]:
    """Empty when ``markup`` is balanced, nested properly and uses only the subset."""
    checker = SubsetChecker()
    checker.feed(markup)
    checker.close()
    if checker.stack:
        checker.problems.append(f"left open: {checker.stack}")
    outside_tags = _TAG.sub("", markup)
    if "<" in outside_tags or ">" in outside_tags:
        checker.problems.append("unescaped < or > in text")
    if _ENTITY.sub("", outside_tags).count("&"):
        checker.problems.append("unescaped & in text")
    return checker.problems


def shown_text(markup: str) -> str:
    checker = SubsetChecker()
    checker.feed(markup)
    checker.close()
    return "".join(checker.text)
