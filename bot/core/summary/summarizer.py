"""Summary bullets of one article: the publisher's key points when it has them, else extractive."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.core.lang import detect_language
from bot.core.summary.cleaning import (
    credit_stripped,
    feed_tail_stripped,
    is_heading,
    is_noise_block,
    is_noise_sentence,
    strip_dateline,
)
from bot.core.summary.keypoints import KeyPoints, find_key_points
from bot.core.summary.ranking import Candidate, make_candidate, select, similarity
from bot.core.summary.sentences import split_block, split_blocks
from bot.core.summary.shorten import shorten
from bot.core.summary.text import words

Focus = Callable[[str], bool]

_MIN_WORDS = 4  # shorter units are fragments ("Das ist falsch."), not summaries
_SHORT_CAPTION_SENTENCES = 2  # a credited block this short is a photo caption, not article text
_TEASER_MAX_SENTENCES = 3
_TEASER_MAX_CHARS = 320
_RESTATES = 0.45  # word overlap (cosine) at which a sentence repeats another's subject


MAX_INPUT_CHARS = 60_000


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
    # Ranking compares sentences with each other; past a long article's length that only costs time (a 2 MB
    # upload took seconds), and the bullets come from the beginning anyway.
    text = text[:MAX_INPUT_CHARS]
    lang = _lang(lang, text)
    blocks = split_blocks(text)
    box = None if teaser_only else find_key_points(blocks, lang)
    body = blocks if box is None else blocks[: box.first_block] + blocks[box.end_block :]
    candidates = article_sentences(body, lang)
    if teaser_only:
        return _teaser_bullet(candidates, focus, max_chars)
    if focus is not None:
        focus = _surviving_focus(_named_focus(focus, candidates), candidates, max_chars)
    if box is not None:
        return _box_bullets(box, candidates, focus, max_bullets, max_chars)
    chosen = _extract(candidates, title, focus, max_bullets, max_chars)
    return [shorten(c.text, max_chars, keep=focus if i == 0 else None) for i, c in enumerate(chosen)]


def _named_focus(focus: Focus, candidates: list[Candidate]) -> Focus:
    """The stricter "names it" test when the focus has one and some sentence passes it: a bullet that says
    "Putin" beats one that only says "Russia's president" (the matching engine's ``FocusTest.by_name``)."""
    by_name: Focus | None = getattr(focus, "by_name", None)
    if by_name is not None and any(by_name(c.source) for c in candidates):
        return by_name
    return focus


def _surviving_focus(focus: Focus, candidates: list[Candidate], max_chars: int) -> Focus:
    """A focus test that also requires the name to survive shortening, when some sentence passes it: a
    long sentence naming the focus only at its end would lose the name to the "…"."""

    def survives(sentence: str) -> bool:
        return focus(sentence) and focus(shorten(strip_dateline(sentence), max_chars, keep=focus))

    return survives if any(survives(c.source) for c in candidates) else focus


def _extract(
    candidates: list[Candidate], title: str | None, focus: Focus | None, count: int, max_chars: int
) -> list[Candidate]:
    """Ranked sentences. A teaser-led article is read the way it is written: the teaser says what matters
    (it guides the ranking in place of a missing title) and the lead paragraph after it says it in full."""
    teaser = _teaser(candidates)
    if not teaser:
        return select(candidates, count=count, max_chars=max_chars, title=title, focus=focus)
    body = [replace(c, order=i) for i, c in enumerate(candidates[len(teaser) :])]
    if focus is not None and not any(focus(c.source) for c in body) and any(focus(c.source) for c in teaser):
        return select(candidates, count=count, max_chars=max_chars, title=title, focus=focus)
    lead = {i for i, c in enumerate(body) if c.paragraph == body[0].paragraph}
    guide = title or " ".join(c.text for c in teaser)
    return select(body, count=count, max_chars=max_chars, title=guide, focus=focus, preferred=lead)


def _teaser(candidates: list[Candidate]) -> list[Candidate]:
    """The opening paragraph when it is a teaser: two or three short sentences, then a paragraph of at
    least two sentences whose first one restates the teaser's first (same subject, same words)."""
    paragraphs = _paragraphs(candidates)
    if len(paragraphs) < 2:
        return []
    opening, following = paragraphs[0], paragraphs[1]
    if not 2 <= len(opening) <= _TEASER_MAX_SENTENCES or len(following) < 2:
        return []
    if sum(len(c.text) for c in opening) > _TEASER_MAX_CHARS:
        return []
    return opening if similarity(opening[0], following[0]) >= _RESTATES else []


def _paragraphs(candidates: list[Candidate]) -> list[list[Candidate]]:
    grouped: dict[int, list[Candidate]] = {}
    for c in candidates:
        grouped.setdefault(c.paragraph, []).append(c)
    return list(grouped.values())


def lead_bullets(text: str, *, lang: str | None = None, count: int = 3, max_chars: int = 200) -> list[str]:
    """The classic baseline: the article's first ``count`` sentences under the same budget and cleaning."""
    lang = _lang(lang, text)
    candidates = article_sentences(split_blocks(text), lang)
    return [shorten(c.text, max_chars) for c in candidates[:count]]


def article_sentences(blocks: list[str], lang: str) -> list[Candidate]:
    """The sentences that may become bullets, in document order: captions, credits, bylines, sub-headings
    and notices left out (a sentence repeating the title is left to the ranking). Falls back to
    unpunctuated lines when the text has no full sentence at all (a teaser without a final full stop)."""
    candidates = _candidates(blocks, lang, allow_headings=False)
    return candidates or _candidates(blocks, lang, allow_headings=True)


def _candidates(blocks: list[str], lang: str, *, allow_headings: bool) -> list[Candidate]:
    result: list[Candidate] = []
    paragraph = 0
    for block in blocks:
        if is_noise_block(block):
            continue
        sentences = _block_sentences(block, lang)
        kept = 0
        for source in sentences:
            if not _usable(source, allow_headings):
                continue
            text = strip_dateline(source)
            result.append(make_candidate(text, len(result), paragraph, kept, source, lang))
            kept += 1
        paragraph += 1 if kept else 0
    return result


def _block_sentences(block: str, lang: str) -> list[str]:
    stripped, credited = credit_stripped(feed_tail_stripped(block))
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
    return [shorten(bullet, max_chars, keep=focus)]


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
    return [shorten(item, max_chars, keep=focus if i == 0 else None) for i, item in enumerate(items[:count])]


def _lang(lang: str | None, text: str) -> str:
    code = (lang or "").strip().casefold()[:2]
    return code if code in ("de", "en") else detect_language(text)
