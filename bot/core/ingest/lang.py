"""Language of an article: the one a source declares, else a quick dictionary-based guess."""

from __future__ import annotations

import re

from simplemma import langdetect

SUPPORTED = ("de", "en")
DEFAULT_LANG = "en"
_SAMPLE_CHARS = 600  # a few sentences decide reliably; whole articles would only cost time
_TAG = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]+)*$")
_NAMES = {"german": "de", "deutsch": "de", "english": "en", "englisch": "en"}


def detect_language(text: str, *, candidates: tuple[str, ...] = SUPPORTED, default: str = DEFAULT_LANG) -> str:
    """The most likely of ``candidates`` for ``text``; ``default`` when the text gives no evidence."""
    sample = text[:_SAMPLE_CHARS]
    if len(text) > _SAMPLE_CHARS:
        sample = sample.rsplit(" ", 1)[0]  # a cut word would only count against every language
    if not sample.strip():
        return default
    scores = langdetect(sample, lang=candidates)
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
    tag = value.strip().casefold()
    if tag in _NAMES:
        return _NAMES[tag]
    match = _TAG.match(tag)
    return match.group(1) if match else None
