"""German compounds split into their parts, validated against wordfreq's German word list.

A split ``Munitions|fabrik`` is accepted only where both sides are words of the language (the left side
possibly with a linking element: Munition+s, Satellit+en, Brücke+n), so *Anzug* (an|zug), *Auswahl*
(aus|wahl), *Armut* and *Gastronomie* stay whole: a prefix or a letter sequence is not a word. Each distinct
word is split once per process (cached); the word list loads on the first German compound looked at.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol, TypeVar

from bot.core.matching.lexicon import Form
from bot.core.matching.normalize import STOPWORDS, normalize
from bot.core.matching.vocabulary import Vocabulary

MIN_PART = 3  # letters of each part ("Gas|preise")
MIN_WORD = 2 * MIN_PART
MIN_ZIPF = 2.5  # a part must be at least this common (Zipf scale) to count as a word of the language
SHORT_HEAD_ZIPF = 4.0  # a three-letter head must be a common word ("Gipfel|tag"), not a fragment ("Kim|chi")
MAX_DEPTH = 2  # a modifier may itself be a compound once ("Aufklärungs|satelliten", "Atomwaffen|test")
CACHE_WORDS = 200_000
# linking elements between the parts, longest first: Munition+s, Satellit+en, Brücke+n, Kind+er
LINKERS = ("ens", "es", "en", "er", "s", "n", "e")
# words that are prefixes or function words before a noun, not the noun's modifier (An|zug, Aus|wahl)
_PARTICLE_TEXT = (
    "ab an auf aus bei be durch ein emp ent er ge gegen hinter miss mit nach neben ober über um un unter ur "
    "ver vor weg wider zer zu zurück zusammen voll viel all ander eigen erst letzt selbst hin her dar"
)
PARTICLES = frozenset(normalize(_PARTICLE_TEXT).split())


@dataclass(frozen=True, slots=True)
class Split:
    first: tuple[str, ...]  # the leftmost part as it may be written alone: "munitions", "munition"
    head: str  # the rightmost part as it occurs: "fabrik", "satelliten"


class Decompounder:
    """Splits normalised German words; ``words`` is the set of normalised known words (loaded lazily)."""

    def __init__(self, words: dict[str, float] | None = None) -> None:
        self._words = words
        self._lock = threading.Lock()
        self.splits = lru_cache(maxsize=CACHE_WORDS)(self._splits)

    def known(self, word: str) -> bool:
        return word in self._vocabulary()

    def _vocabulary(self) -> dict[str, float]:
        if self._words is None:
            with self._lock:
                if self._words is None:
                    self._words = _wordfreq_words()
        return self._words

    def _splits(self, word: str) -> tuple[Split, ...]:
        """Every way ``word`` is a modifier plus a head word; () for a simple word."""
        if len(word) < MIN_WORD or not word.isalpha():
            return ()
        return tuple(self._split(word, MAX_DEPTH))

    def _split(self, word: str, depth: int) -> list[Split]:
        """The split with the longest head (German compounds are right-headed: "Strom|ausfall", not
        "Stromaus|fall"); a modifier that is no word may split once more ("Atomwaffen|test")."""
        known = self._vocabulary()
        nested: list[Split] = []
        for cut in range(MIN_PART, len(word) - MIN_PART + 1):
            head = word[cut:]
            if not _is_head(head, known):
                continue
            modifier = word[:cut]
            forms = _modifier_forms(modifier, known)
            if forms:
                return [Split(forms, head)]
            if not nested and depth > 1 and len(modifier) >= MIN_WORD:
                nested = [Split(inner.first, head) for inner in self._split(modifier, depth - 1)]
        return nested


def _is_head(head: str, known: dict[str, float]) -> bool:
    zipf = known.get(head)
    if zipf is None or head in STOPWORDS:
        return False
    return len(head) > MIN_PART or zipf >= SHORT_HEAD_ZIPF


def _modifier_forms(modifier: str, known: dict[str, float]) -> tuple[str, ...]:
    if modifier in PARTICLES:
        return ()
    forms = [modifier] if modifier in known else []
    for linker in LINKERS:
        stem = modifier[: -len(linker)]
        if modifier.endswith(linker) and len(stem) >= MIN_PART and stem in known and stem not in PARTICLES:
            forms.append(stem)
    return tuple(dict.fromkeys(forms))


def _wordfreq_words() -> dict[str, float]:
    """German words at least ``MIN_ZIPF`` common, normalised like article text (ä → ae)."""
    import wordfreq  # a large list: imported only once a German compound is looked at

    threshold = 10 ** (MIN_ZIPF - 9)  # Zipf = log10(frequency per billion words)
    frequencies = wordfreq.get_frequency_dict("de", wordlist="large")
    words: dict[str, float] = {}
    for word, frequency in frequencies.items():
        if frequency >= threshold and word.isalpha():
            words.setdefault(normalize(word), math.log10(frequency) + 9)
    return words


class Part(Protocol):
    """What the scanner registered for a compound part: its form (for the sense check)."""

    @property
    def form(self) -> Form: ...


P = TypeVar("P", bound=Part)
_LONG_WORD = re.compile(rf"(?<![\w'])[a-z]{{{MIN_WORD},}}(?![\w'])")


@dataclass(frozen=True, slots=True)
class CompoundMatcher:
    """Finds registered words as parts of German compounds: as the head ("Aufklärungs|satelliten") or as
    the first part ("Munitions|fabrik"). A compound with its own vocabulary entry is matched only when
    that entry's English shares a word with the part's sense ("Gaspreis: gas price" for *Gas*, but not
    "Waffenstillstand: ceasefire" for *Waffe*); lexicon-listed opaque compounds (*Brückentag*) never."""

    decompounder: Decompounder
    vocabulary: Vocabulary
    opaque: frozenset[str]
    endings: frozenset[str]

    def matches(self, text: str, parts: Mapping[str, Sequence[P]]) -> Iterator[tuple[P, int, int]]:
        """(registered part, start, end) in the normalised ``text`` for every compound word holding one."""
        seen: dict[str, list[P]] = {}
        for match in _LONG_WORD.finditer(text):
            word = match.group()
            found = seen.get(word)
            if found is None:
                found = seen[word] = self._parts_of(word, parts)
            for part in found:
                yield part, match.start(), match.end()

    def _parts_of(self, word: str, parts: Mapping[str, Sequence[P]]) -> list[P]:
        found: list[P] = []
        for split in self.decompounder.splits(word):
            keys = [*split.first, *self._stems(split.head)]
            for key in dict.fromkeys(keys):
                found.extend(p for p in parts.get(key, ()) if self._transparent(word, p.form))
        return found

    def _stems(self, head: str) -> list[str]:
        return [head, *(head[: -len(e)] for e in self.endings if e and head.endswith(e) and len(head) - len(e) >= 3)]

    def _transparent(self, word: str, form: Form) -> bool:
        stems = self._stems(word)
        if any(stem in self.opaque for stem in stems):
            return False
        own = next((found for stem in stems if (found := self.vocabulary.lookup(stem))), ())
        if not own or not form.sense:
            return True
        return any(not sense.english_tokens().isdisjoint(form.sense) for sense in own)
