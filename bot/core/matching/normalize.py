"""Text normalisation shared by the lexicon, the queries and the articles.

Everything is folded into one comparable alphabet: Unicode NFKC, case folding, German umlauts spelled out
(ä→ae, ö→oe, ü→ue, ß→ss), other diacritics dropped (Erdoğan→erdogan), every character that is neither a
letter, a digit nor an apostrophe turned into a space. Hyphenated compounds therefore split into words
("Putin-Kim-Treffen" → "putin kim treffen"). The apostrophe is kept so possessives stay one token ("putin's")
and are handled as an inflection ending.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l"}
_APOSTROPHES = frozenset("'’ʼ‘`´")
_WORD_RE = re.compile(r"[^\s']+(?:'[^\s']+)*")

# A handful of function words is enough to tell German from English on news text.
_DE_MARKERS = frozenset(
    "der die das und ist nicht ein eine einen dem den des mit auf fuer sich von zu im wurde wird auch".split()
)
_EN_MARKERS = frozenset("the and is of to in that was for with on said has have are by from it".split())

STOPWORDS = _DE_MARKERS | _EN_MARKERS | frozenset(
    "a an as at be but or not this these those its his her their our we you he she they i "
    "er sie es wir ihr am um an aus bei nach oder aber wie was wer noch nur so".split()
)


@lru_cache(maxsize=4096)
def fold_char(char: str) -> str:
    """Normalised spelling of one character: '' for combining marks, ' ' for separators."""
    if char in _APOSTROPHES:
        return "'"
    folded = unicodedata.normalize("NFKC", char).casefold()
    out = []
    for piece in folded:
        if piece in _UMLAUTS:
            out.append(_UMLAUTS[piece])
            continue
        if piece.isalnum():
            base = unicodedata.normalize("NFD", piece)
            out.append("".join(c for c in base if not unicodedata.combining(c)) or piece)
        elif unicodedata.combining(piece):
            continue
        else:
            out.append(" ")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class NormalText:
    """A normalised text plus, for every normalised character, the index of its source character."""

    text: str
    source: str
    offsets: tuple[int, ...] | None  # None: the normalised text is aligned 1:1 with the source

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the normalised text back to the source text."""
        if self.offsets is None:
            return start, end
        src_start = self.offsets[start]
        src_end = self.offsets[end - 1] + 1 if end > start else src_start
        return src_start, src_end


def normalize_text(text: str) -> NormalText:
    """Normalise ``text`` and keep the mapping back to it (needed for hit offsets)."""
    pieces = [fold_char(c) for c in text]
    if all(len(p) == 1 for p in pieces):
        return NormalText("".join(pieces), text, None)
    offsets: list[int] = []
    for index, piece in enumerate(pieces):
        offsets.extend([index] * len(piece))
    return NormalText("".join(pieces), text, tuple(offsets))


def normalize(text: str) -> str:
    """Normalised form with single spaces between words, used for lexicon forms and query terms."""
    return " ".join(_WORD_RE.findall("".join(fold_char(c) for c in text).replace("''", " ")))


def words(normalised: str) -> list[str]:
    return _WORD_RE.findall(normalised)


def guess_language(normalised: str) -> str:
    """'de' or 'en' from function-word counts; English wins ties (most feeds are English)."""
    tokens = words(normalised[:4000])
    german = sum(1 for t in tokens if t in _DE_MARKERS)
    english = sum(1 for t in tokens if t in _EN_MARKERS)
    return "de" if german > english else "en"
