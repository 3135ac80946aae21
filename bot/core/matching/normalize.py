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
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l"}
_APOSTROPHES = frozenset("'’ʼ‘`´")
_WORD_RE = re.compile(r"[^\s']+(?:'[^\s']+)*")
# An apostrophe at the edge of a word is a quotation mark ("'Putin's war'"), not part of the word.
_EDGE_APOSTROPHE_RE = re.compile(r"(?<![^\s'])'|'(?![^\s'])")


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function words of each language, never worth following as a query term (the language of a text is told
# by bot/core/lang.py).
_DE_MARKERS = _wordset(
    "der das und ist nicht ein eine einen einem einer eines dem den des mit auf fuer sich von zu im wurde "
    "wird auch ab bei nach aus zum zur vom beim sind hat haben werden noch gegen ueber unter seit dass sie er"
)
_EN_MARKERS = _wordset("the and is of to that for with on said has have are by from it this were been its their")

STOPWORDS = (
    _DE_MARKERS
    | _EN_MARKERS
    | _wordset(
        "a an as at be but or not this these those its his her their our we you he she they i "
        "er sie es wir ihr am um an aus bei nach oder aber wie was wer noch nur so"
    )
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


class _FoldTable(dict[int, str]):
    """``str.translate`` table that fills itself: folding runs at C speed after a character's first use.
    ``vanishing`` collects the characters that fold to nothing (combining marks): with none of them in a
    text, a normalised text as long as its source is aligned with it character for character."""

    def __init__(self) -> None:
        super().__init__()
        self.vanishing: set[str] = set()

    def __missing__(self, code: int) -> str:
        folded = fold_char(chr(code))
        self[code] = folded
        if not folded:
            self.vanishing.add(chr(code))
        return folded


_FOLD = _FoldTable()
# ASCII folds one byte to one byte: ``bytes.translate`` with a 256-byte table is several times faster than
# ``str.translate`` with a dict, and most articles of English feeds are plain ASCII.
_ASCII_FOLD = bytes(ord(fold_char(chr(code))) for code in range(128)) + bytes(128)
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")
# The non-ASCII characters of almost every German article, replaced without first looking for which occur:
# a ``str.replace`` of an absent character is one C search.
_GERMAN_CHARS = "äüöß–„“ÖÜÄé"


@lru_cache(maxsize=4096)
def _ascii_folding(char: str) -> str | None:
    """The folding of a non-ASCII character when it is ASCII the byte table leaves as it is (ä → ae, – → ' ',
    a combining mark → ''), else None: a text of only such characters folds by ``str.replace`` per distinct
    character and then ``bytes.translate``, the same as ``str.translate`` with the table character by
    character (which costs ≈ 0.1 ms for a 2,000-character German article; the replacements a tenth)."""
    folded = _FOLD[ord(char)]
    if folded.isascii() and folded.encode("ascii").translate(_ASCII_FOLD).decode("ascii") == folded:
        return folded
    return None


# (character, its folding, whether that changes the length)
_GERMAN_FOLDS = tuple(
    (char, folded, len(folded) != 1) for char in _GERMAN_CHARS if (folded := _ascii_folding(char)) is not None
)


@dataclass(slots=True)
class NormalText:
    """A normalised text plus the way back to the source offsets (computed only when a hit needs it)."""

    text: str
    source: str
    aligned: bool  # True: one normalised character per source character
    _offsets: list[int] | None = None  # normalised start of each odd character (see _odd_characters)
    # per odd character: (normalised end of its folding, its source index, source minus normalised offset after it)
    _odd: list[tuple[int, int, int]] = field(default_factory=list)
    _odd_chars: str | None = None  # the distinct odd characters of the source, when normalising found them

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the normalised text back to the source text. A long German article asks
        this for every hit (≈ 170 times): one bisection, and a second only when an odd character lies inside
        the span; the shift back is inlined (a call per end was a fifth of the cost)."""
        if self.aligned:
            return start, end
        offsets = self._offsets if self._offsets is not None else self._odd_characters()
        last = bisect_right(offsets, start) - 1  # the last odd character folded at or before ``start``
        if last < 0:
            src_start = start
        else:  # inside its folding the character itself, after it a constant shift
            fold_end, index, shift = self._odd[last]
            src_start = index if start < fold_end else start + shift
        if end <= start:
            return src_start, src_start
        final = end - 1
        if last + 1 < len(offsets) and offsets[last + 1] <= final:
            last = bisect_right(offsets, final, last + 1) - 1
            fold_end, index, shift = self._odd[last]
        elif last < 0:
            return src_start, end
        return src_start, (index if final < fold_end else final + shift) + 1

    def _odd_characters(self) -> list[int]:
        """Only the few characters that fold to other than one character (ä → ae, combining marks →
        nothing) are listed: a per-character table of a long German article cost more than scanning it for
        every name. They are found by one ``str.find`` loop per distinct character, twice as fast as a
        character-class regex over the text (≈ 30 of them in 2,000 characters of German)."""
        odd = self._odd_chars
        if odd is None:
            odd = "".join(c for c in set(self.source) if len(_FOLD[ord(c)]) != 1)
        source = self.source
        starts: list[int] = []
        self._odd = []
        extra = 0
        for index in _positions(source, odd):
            length = len(_FOLD[ord(source[index])])
            begin = index + extra  # where its folding begins in the normalised text
            starts.append(begin)
            extra += length - 1
            self._odd.append((begin + length, index, index + 1 - begin - length))
        self._offsets = starts
        return starts


def _positions(text: str, chars: str) -> list[int]:
    """The indexes of every occurrence of any of ``chars`` in ``text``, in order."""
    found: list[int] = []
    for char in chars:
        index = text.find(char)
        while index >= 0:
            found.append(index)
            index = text.find(char, index + 1)
    found.sort()
    return found


def normalize_text(text: str) -> NormalText:
    """Normalise ``text`` and keep the mapping back to it (needed for hit offsets)."""
    odd: str | None = None
    if text.isascii():  # one character to one: aligned
        folded = text.encode("ascii").translate(_ASCII_FOLD).decode("ascii")
        aligned = True
    elif (replaced := _fold_by_replacing(text)) is not None:
        folded, odd = replaced
        aligned = not odd
    else:
        folded = text.translate(_FOLD)
        # other scripts are aligned when no umlaut/ß/mark changes the length (a mark folding to nothing and
        # an ß folding to two would cancel out in the length, hence the second test)
        aligned = len(folded) == len(text) and (not _FOLD.vanishing or _FOLD.vanishing.isdisjoint(text))
    if "'" in folded:
        folded = _drop_edge_apostrophes(folded)  # same length: the alignment is kept
    return NormalText(folded, text, aligned, _odd_chars=odd)


def _fold_by_replacing(text: str) -> tuple[str, str] | None:
    """``text.translate(_FOLD)`` and the distinct characters of ``text`` that fold to other than one
    character, for a text whose non-ASCII characters all fold to ASCII (see :func:`_ascii_folding`); None
    for any other (Cyrillic, Greek, CJK: the table folds those)."""
    odd: list[str] = []
    for char, folded, resized in _GERMAN_FOLDS:
        replaced = text.replace(char, folded)
        if resized and len(replaced) != len(text):  # present: a folding of other length changes the length
            odd.append(char)
        text = replaced
    if not text.isascii():
        for char in set(_NON_ASCII_RE.findall(text)):
            folded_char = _ascii_folding(char)
            if folded_char is None:
                return None
            if len(folded_char) != 1:
                odd.append(char)
            text = text.replace(char, folded_char)
    return text.encode("ascii").translate(_ASCII_FOLD).decode("ascii"), "".join(odd)


def _drop_edge_apostrophes(folded: str) -> str:
    """``_EDGE_APOSTROPHE_RE.sub(" ", folded)`` for a folded text (only letters, digits, ' and spaces), by
    looking at the few apostrophes there are instead of running a look-around regex over the whole text."""
    last = len(folded) - 1
    edges = []
    position = folded.find("'")
    while position >= 0:
        before = folded[position - 1] if position else " "
        after = folded[position + 1] if position < last else " "
        if before in " '" or after in " '":
            edges.append(position)
        position = folded.find("'", position + 1)
    if not edges:
        return folded
    chars = list(folded)
    for position in edges:
        chars[position] = " "
    return "".join(chars)


def normalize(text: str) -> str:
    """Normalised form with single spaces between words, used for lexicon forms and query terms."""
    return " ".join(_WORD_RE.findall(_EDGE_APOSTROPHE_RE.sub(" ", text.translate(_FOLD))))


def words(normalised: str) -> list[str]:
    return _WORD_RE.findall(normalised)
