"""The result of parsing one input, and the one place where drafts are assembled and validated."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.core.ingest.lang import detect_language, normalise_lang
from bot.core.ingest.text import (
    MIN_ARTICLE_CHARS,
    clean_line,
    clean_text,
    clean_url,
    derive_title,
    is_long_enough,
    shorten,
    word_chars,
)
from bot.core.models import ArticleDraft

OK = "ok"
REPAIRED = "repaired"
REJECTED = "rejected"
TEASER_MAX_CHARS = 400  # feed texts shorter than this are a teaser, not the article
_LANG_SAMPLE_CHARS = 1000


@dataclass(unsafe_hash=True)  # built per imported article: not frozen (see bot.core.models)
class ParsedItem:
    source: str  # "path/file.txt", "corpus.jsonl:17", "feed.xml#item-3"
    draft: ArticleDraft | None  # None when rejected
    status: str  # "ok" | "repaired" | "rejected"
    reason: str = ""  # why rejected / what was repaired, one clear English line

    @property
    def ok(self) -> bool:
        return self.draft is not None

    def describe(self) -> str:
        """One line for people: "corpus.jsonl:17: invalid JSON: …"."""
        return f"{self.source}: {self.reason}" if self.reason else f"{self.source}: {self.status}"


def rejected(source: str, reason: str) -> ParsedItem:
    return ParsedItem(source, None, REJECTED, reason)


@dataclass(slots=True)
class DraftFields:
    """What a format parser found; :func:`build_item` turns it into a checked draft."""

    body: str
    title: str | None = None
    lang: str | None = None  # declared per article (corpus field): trusted as is
    lang_hint: str | None = None  # declared by the container (feed, page): the text may overrule it
    published: date | None = None
    source: str | None = None
    url: str | None = None
    guid: str | None = None
    teaser_only: bool | None = None  # None: decided by the text's length
    title_hint: str = ""  # text to derive a title from when there is none (e.g. a corpus "lead")
    repairs: list[str] = field(default_factory=list)


def build_item(where: str, fields: DraftFields) -> ParsedItem:
    """Validate and complete ``fields``: title, language, teaser flag, minimum length."""
    body = clean_text(fields.body)
    title = shorten(clean_line(fields.title)) if fields.title else ""
    if not body:
        return rejected(where, "no text" if not title else "no text (only a title)")
    teaser = fields.teaser_only if fields.teaser_only is not None else len(body) < TEASER_MAX_CHARS
    # A teaser is judged together with its headline: "Kim fires his No. 2" plus one line is news.
    measured = f"{title}\n{body}" if teaser and title and title != body else body
    if not is_long_enough(measured):
        found = word_chars(measured)
        return rejected(
            where, f"text too short to be an article ({found} characters of words, need at least {MIN_ARTICLE_CHARS})"
        )
    if not title:
        title = derive_title(fields.title_hint) or derive_title(body)
    lang = normalise_lang(fields.lang) or detect_language(
        f"{title}\n{body[:_LANG_SAMPLE_CHARS]}", hint=fields.lang_hint
    )
    draft = ArticleDraft(
        title=title,
        body=body,
        lang=lang,
        published=fields.published,
        source=fields.source or None,
        url=clean_url(fields.url),
        guid=fields.guid or None,
        teaser_only=teaser,
    )
    if fields.repairs:
        return ParsedItem(where, draft, REPAIRED, "; ".join(fields.repairs))
    return ParsedItem(where, draft, OK)
