"""HTML to plain text without a browser: for feed fragments and as the fallback for whole pages."""

from __future__ import annotations

from html.parser import HTMLParser

from bot.core.ingest.text import clean_line, clean_text, word_set

# Content of these elements is never article text.
_ALWAYS_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "head"})
# Page furniture, skipped when reading a whole page (a feed fragment has none of it).
_PAGE_CHROME = frozenset({"nav", "header", "footer", "aside", "form", "button", "select", "menu", "dialog"})
_BLOCKS = word_set(
    "p div br li ul ol dl dt dd h1 h2 h3 h4 h5 h6 tr table blockquote section article pre",
    "figure figcaption hr main address details summary",
)
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr"})


class _TextCollector(HTMLParser):
    def __init__(self, *, whole_page: bool) -> None:
        super().__init__(convert_charrefs=True)
        self._skip = _ALWAYS_SKIP | _PAGE_CHROME if whole_page else _ALWAYS_SKIP
        self._skip_stack: list[str] = []
        self._in_title = False
        self.title = ""
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in _VOID:
            if tag in _BLOCKS and not self._skip_stack:
                self.parts.append("\n")
            return
        if self._skip_stack or tag in self._skip:
            self._skip_stack.append(tag)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if self._skip_stack:
            # Browsers forgive unclosed tags; pop back to the matching opener so one stray tag cannot
            # swallow the rest of the page.
            if tag in self._skip_stack:
                while self._skip_stack and self._skip_stack.pop() != tag:
                    pass
            return
        if tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title and not self.title:
            self.title = clean_line(data)
        if not self._skip_stack:
            self.parts.append(data)


def _collect(html: str, *, whole_page: bool) -> _TextCollector:
    collector = _TextCollector(whole_page=whole_page)
    collector.feed(html)
    collector.close()
    return collector


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment (feed content), paragraphs separated by blank lines."""
    if "<" not in html and "&" not in html:
        return clean_text(html)
    return _join_paragraphs(_collect(html, whole_page=False).parts)


def page_text(html: str) -> tuple[str, str]:
    """``(title, text)`` of a whole page with navigation, headers, footers and scripts left out."""
    collector = _collect(html, whole_page=True)
    return collector.title, _join_paragraphs(collector.parts)


def _join_paragraphs(parts: list[str]) -> str:
    # Inside a paragraph, source line breaks are just spaces; only block boundaries separate paragraphs.
    paragraphs = ("".join(parts)).split("\n\n")
    return clean_text("\n\n".join(" ".join(p.split()) for p in paragraphs))
