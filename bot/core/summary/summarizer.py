"""Summary bullets of one article: the publisher's key points when it has them, else extractive."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.summary.cleaning import (
    credit_stripped,
    is_heading,
    is_noise_block,
    is_noise_sentence,
    strip_dateline,
)
from bot.core.summary.keypoints import KeyPoints, find_key_points
from bot.core.summary.ranking import Candidate, make_candidate, select
from bot.core.summary.sentences import split_block, split_blocks
from bot.core.summary.shorten import shorten
from bot.core.summary.text import guess_lang, normalize, words

Focus = Callable[[str], bool]

_MIN_WORDS = 4  # shorter units are fragments ("Das ist falsch."), not summaries
_SHORT_CAPTION_SENTENCES = 2  # a credited block this short is a photo caption, not article text


def summarize(
    text: str,
    *,
    lang: str | None = None,
    title: str | None = None,
    focus: Focus | None = None,
    max_bullets: int = 3,
    max_chars: int = 200,
    teaser_only: bool = False,
) -> list[str]:
    """Up to ``max_bullets`` bullets of at most ``max_chars`` characters each.

    ``focus(sentence)`` tells whether a sentence is about what the reader follows; the first bullet names
    it whenever any sentence does. ``teaser_only`` (a feed item without its article) gives one bullet.
    """
    if max_bullets < 1 or max_chars < 1 or not text or not text.strip():
        return []
    lang = _lang(lang, text)
    blocks = split_blocks(text)
    box = None if teaser_only else find_key_points(blocks, lang)
    body = blocks if box is None else blocks[: box.first_block] + blocks[box.end_block :]
    candidates = article_sentences(body, lang, title)
    if teaser_only:
        return _teaser_bullet(candidates, focus, max_chars)
    if box is not None:
        return _box_bullets(box, candidates, focus, max_bullets, max_chars)
    chosen = select(candidates, count=max_bullets, max_chars=max_chars, title=title, focus=focus)
    return [shorten(c.text, max_chars) for c in chosen]


def lead_bullets(text: str, *, lang: str | None = None, count: int = 3, max_chars: int = 200) -> list[str]:
    """The classic baseline: the article's first ``count`` sentences under the same budget and cleaning."""
    lang = _lang(lang, text)
    candidates = article_sentences(split_blocks(text), lang, None)
    return [shorten(c.text, max_chars) for c in candidates[:count]]


def article_sentences(blocks: list[str], lang: str, title: str | None) -> list[Candidate]:
    """The sentences that may become bullets, in document order, with captions, credits, bylines,
    sub-headings, notices and a repeated title left out. Falls back to unpunctuated lines when the text
    has no full sentence at all (a teaser without a final full stop)."""
    candidates = _candidates(blocks, lang, title, allow_headings=False)
    return candidates or _candidates(blocks, lang, title, allow_headings=True)


def _candidates(blocks: list[str], lang: str, title: str | None, *, allow_headings: bool) -> list[Candidate]:
    title_key = _key(title) if title else None
    result: list[Candidate] = []
    paragraph = 0
    for block in blocks:
        if is_noise_block(block):
            continue
        sentences = _block_sentences(block, lang)
        kept = 0
        for source in sentences:
            if not _usable(source, allow_headings) or _key(source) == title_key:
                continue
            text = strip_dateline(source)
            result.append(make_candidate(text, len(result), paragraph, kept, source, lang))
            kept += 1
        paragraph += 1 if kept else 0
    return result


def _block_sentences(block: str, lang: str) -> list[str]:
    stripped, credited = credit_stripped(block)
    sentences = split_block(stripped, lang)
    if credited and len(sentences) <= _SHORT_CAPTION_SENTENCES:
        return []  # a photo caption repeats the article; its credit proves what it is
    return sentences


def _usable(sentence: str, allow_headings: bool) -> bool:
    if is_noise_sentence(sentence):
        return False
    if is_heading(sentence) and not allow_headings:
        return False
    return len(words(sentence)) >= (_MIN_WORDS if not allow_headings else 2)


def _teaser_bullet(candidates: list[Candidate], focus: Focus | None, max_chars: int) -> list[str]:
    """One bullet: the teaser's opening sentences that fit, or its first sentence naming the focus."""
    if not candidates:
        return []
    start = next((c.order for c in candidates if focus is not None and focus(c.source)), 0)
    bullet = candidates[start].text
    for c in candidates[start + 1 :]:
        if len(bullet) + 1 + len(c.text) > max_chars:
            break
        bullet = f"{bullet} {c.text}"
    return [shorten(bullet, max_chars)]


def _box_bullets(
    box: KeyPoints, candidates: list[Candidate], focus: Focus | None, count: int, max_chars: int
) -> list[str]:
    """The box's items in order; with a focus, the first item naming it leads, or else the article's best
    sentence naming it (the box may not mention what this reader follows)."""
    items = list(box.items)
    if focus is not None:
        named = next((item for item in items if focus(item)), None)
        if named is not None:
            items.remove(named)
            items.insert(0, named)
        else:
            best = select(candidates, count=1, max_chars=max_chars, focus=focus)
            if best and focus(best[0].source):
                items.insert(0, best[0].text)
    return [shorten(item, max_chars) for item in items[:count]]


def _lang(lang: str | None, text: str) -> str:
    code = (lang or "").strip().casefold()[:2]
    return code if code in ("de", "en") else guess_lang(text)


def _key(text: str) -> str:
    return " ".join(words(normalize(text).casefold()))
