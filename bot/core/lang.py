"""The one language detector of the product: ingestion, matching and summaries all ask this module.

Language of a text: function words first (they settle almost every real article within a few sentences),
then a declared hint (a feed's or page's ``lang``), then simplemma's dictionaries for what is left open.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.core.lemma_cache import language_shares

SUPPORTED = ("de", "en")

DEFAULT_LANG = "en"
_SAMPLE_CHARS = 600  # a few sentences decide reliably; whole articles would only cost time
_TAG = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]+)*$")
_NAMES = {"german": "de", "deutsch": "de", "english": "en", "englisch": "en"}


def word_set(*groups: str) -> frozenset[str]:
    return frozenset(word for group in groups for word in group.split())


# The commonest function words of each language, minus those both share ("in", "was", "will", "also", …).
# Counting them settles almost every real article at once; simplemma (whose dictionaries take seconds to
# load on first use) only decides the texts this leaves open.
_FUNCTION_WORDS = {
    "de": word_set(
        "der die das den dem des und ist sind nicht ein eine einen einem einer mit von zu zum zur auf für sich",
        "auch es im sie er wir ich bei aus nach wie als noch über wird werden wurde wurden hat haben dass daß",
        "oder aber nur schon wenn kann vor durch gegen soll sein seine ihre ihr uns mehr bis sehr hier diese",
        "dieser dieses unter ohne heute jetzt nicht einem zwischen sowie laut seit",
    ),
    "en": word_set(
        "the and is are were of to that it for on with as by at from this be have has had not but or will",
        "would said which who they their he she we you his her its been more than about after can into over",
        "new one all there when what up out these those such could should our says year years",
    ),
}
_WORD_LANG = {word: lang for lang, words in _FUNCTION_WORDS.items() for word in words}
_WORD = re.compile(r"[^\W\d_]+")
_CLEAR_HITS = 3  # at least this many function words,
_CLEAR_RATIO = 2  # and this many times more than any other language's


def detect_language(
    text: str,
    *,
    hint: str | None = None,
    candidates: tuple[str, ...] = SUPPORTED,
    default: str = DEFAULT_LANG,
) -> str:
    """The most likely of ``candidates`` for ``text``; ``default`` when the text gives no evidence.

    ``hint`` is a language the container declares (a feed's or page's ``lang``). Such declarations are often
    a template default, so the text's own function words overrule it; the hint decides only what they leave open.
    """
    sample = text[:_SAMPLE_CHARS]
    if len(text) > _SAMPLE_CHARS:
        sample = sample.rsplit(" ", 1)[0]  # a cut word would only count against every language
    hinted = normalise_lang(hint)
    if not sample.strip():
        return hinted or default
    return _by_function_words(sample, candidates) or hinted or _by_dictionary(sample, candidates, default)


def _by_function_words(sample: str, candidates: tuple[str, ...]) -> str | None:
    if any(lang not in _FUNCTION_WORDS for lang in candidates):
        return None
    hits = dict.fromkeys(candidates, 0)
    for word in _WORD.findall(sample.casefold()):
        lang = _WORD_LANG.get(word)
        if lang in hits:
            hits[lang] += 1
    ranked = sorted(hits.items(), key=lambda pair: pair[1], reverse=True)
    best, best_hits = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0
    if best_hits >= _CLEAR_HITS and best_hits >= _CLEAR_RATIO * runner_up:
        return best
    return None


def _by_dictionary(sample: str, candidates: tuple[str, ...], default: str) -> str:
    scores = language_shares(sample, candidates)  # simplemma's dictionaries: only for texts left open
    best, score = scores[0]
    if best == "unk" or score <= 0:
        return default
    # A tie (names, numbers) is no evidence for either language.
    if len(scores) > 1 and scores[1][1] == score and scores[1][0] != "unk":
        return default if default in {best, scores[1][0]} else best
    return best


def normalise_lang(value: object) -> str | None:
    """Language tags and names ("de-DE", "en_US", "German") → "de"/"en"; None for anything else."""
    if not isinstance(value, str):
        return None
    # a corpus repeats a handful of values over all its records; a long one is no tag and is not kept
    return _cached_tag(value) if len(value) <= _CACHED_TAG_CHARS else _tag_of(value)


def _tag_of(value: str) -> str | None:
    tag = value.strip().casefold()
    if tag in _NAMES:
        return _NAMES[tag]
    match = _TAG.match(tag)
    return match.group(1) if match else None


_CACHED_TAG_CHARS = 40
_cached_tag = lru_cache(maxsize=256)(_tag_of)
