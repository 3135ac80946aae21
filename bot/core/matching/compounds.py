"""German compounds split into their parts, validated against wordfreq's German word list.

A split ``Munitions|fabrik`` is accepted only where both sides are words of the language (the left side
possibly with a linking element: Munition+s, Satellit+en, Brücke+n), so *Anzug* (an|zug), *Auswahl*
(aus|wahl), *Armut* and *Gastronomie* stay whole: a prefix or a letter sequence is not a word.

Cost: a word can hold a registered part only if it contains that part's spelling, so one Aho-Corasick scan
over the registered spellings picks the few candidate words of an article (an article without any costs that
one C scan); only those are split, each distinct word once per process (bounded caches), and the word list
loads on the first candidate word, never when nothing that forms compounds is subscribed.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple, Protocol, TypeVar

import ahocorasick

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

    # wordfreq keeps every list it read (lru_cache): read it uncached, so only the common part we keep stays
    # in memory, not the whole list (≈ 80 MB for German with its dictionary form)
    read = getattr(wordfreq.get_frequency_list, "__wrapped__", wordfreq.get_frequency_list)
    threshold = 10 ** (MIN_ZIPF - 9)  # Zipf = log10(frequency per billion words)
    words: dict[str, float] = {}
    # bucket i holds the words of frequency cB_to_freq(-i), most frequent first: the rest is below threshold
    for index, bucket in enumerate(read("de", "large")):
        frequency = wordfreq.cB_to_freq(-index)
        if frequency < threshold:
            break
        zipf = math.log10(frequency) + 9
        for word in bucket:
            if word.isalpha():
                words.setdefault(word if word.isascii() and word.islower() else normalize(word), zipf)
    return words


class Part(Protocol):
    """What the scanner registered for a compound part: its form (for the sense check)."""

    @property
    def form(self) -> Form: ...


P = TypeVar("P", bound=Part)


class PartTable(defaultdict[str, list[P]]):
    """The registered compound parts by spelling (a ``defaultdict(list)``) that counts the spellings added
    in ``version``, so :meth:`CompoundMatcher.matches` knows in O(1) whether its automaton is current, with
    no assumption about how values change. Removals need no count: a spelling left in the automaton only
    finds words whose lookup then finds nothing. Spellings are added through ``table[key]`` and the
    setters below; ``dict.__ior__`` and friends, which bypass ``__setitem__``, are routed through them."""

    def __init__(self) -> None:
        super().__init__(list)
        self.version = 0

    def __setitem__(self, key: str, value: list[P]) -> None:
        if key not in self:
            self.version += 1
        super().__setitem__(key, value)

    def setdefault(self, key: str, default: list[P] | None = None) -> list[P]:
        if key not in self:
            self[key] = [] if default is None else default
        return self[key]

    def update(self, *args: Any, **kwargs: list[P]) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other: Any) -> PartTable[P]:  # type: ignore[override,misc]
        self.update(other)
        return self


class _WordParts(NamedTuple):
    """What a word's splits offer, independent of the registered parts: the spellings a part may have in
    it (per split: its first part's forms, then its head's stems) and what decides the sense check."""

    keys: tuple[str, ...]
    opaque: bool  # listed as an opaque compound (Brückentag): no part counts
    own: tuple[frozenset[str], ...]  # English content words of each of its own vocabulary senses


_NO_PARTS = _WordParts((), False, ())


@dataclass(slots=True)
class _CandidateScan:
    """One automaton over the registered spellings (those a compound can hold: three letters or more,
    a to z), rebuilt when spellings were added; a removed one may stay until then (it finds words whose
    lookup then finds nothing). How it knows, per call: a :class:`PartTable`'s ``version``; for a plain
    dict, its newest entries (see :meth:`_added`); for any other mapping, all its keys. Comparing all keys
    per article would cost 0.2 ms at 800 spellings and 8.6 ms at 32,000 (the CPU cache is cold by then)."""

    keys: frozenset[str] = frozenset()
    seen: dict[str, object] = field(default_factory=dict)  # spelling → its value when last looked at
    source: object = None
    version: int = -1
    automaton: ahocorasick.Automaton | None = None

    def over(self, parts: Mapping[str, object]) -> ahocorasick.Automaton | None:
        version = getattr(parts, "version", None)
        if version is not None:
            if parts is not self.source or version != self.version:
                self._build(parts)
                self.source, self.version = parts, version
        elif isinstance(parts, dict):
            if parts is not self.source or self._added(parts):
                self._build(parts)
                self.source = parts
        elif not self.keys.issuperset(parts.keys()):
            self._build(parts)
        return self.automaton

    def _added(self, parts: dict[str, object]) -> bool:
        """Whether ``parts`` gained a spelling since the last look, in O(changes): a dict keeps insertion
        order, so new spellings are the last entries, after the newest one still holding the value object it
        held then. This relies on a spelling registered again getting a new value (``defaultdict(list)``
        gives a new list), never an old one moved back in: a table that may do that must be a PartTable."""
        added = False
        for key, value in reversed(parts.items()):
            if self.seen.get(key) is value:
                break
            self.seen[key] = value
            added = added or key not in self.keys
        return added

    def _build(self, parts: Mapping[str, object]) -> None:
        self.keys = frozenset(parts)
        self.seen = dict(parts)  # references keep the values alive, so no other object reuses their ids
        usable = [k for k in self.keys if len(k) >= MIN_PART and k.isascii() and k.isalpha()]
        if not usable:
            self.automaton = None
            return
        automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for key in usable:
            automaton.add_word(key, len(key))
        automaton.make_automaton()
        self.automaton = automaton


def _candidate_words(text: str, automaton: ahocorasick.Automaton) -> Iterator[tuple[int, int]]:
    """Spans of the words of ``text`` in which a split can find a registered spelling: a split's first part
    starts the word, a head starts at least ``MIN_PART`` letters in, and either leaves ``MIN_PART`` letters
    of the word to the other side. Hits come in text order, so a word is yielded once per occurrence; the
    word's bounds are looked up once for all the hits inside it (many, with thousands of spellings)."""
    word_start = word_end = -1
    taken = False
    for last, length in automaton.iter(text):
        if last >= word_end:  # a hit in the next word
            start = last - length + 1
            word_start = text.rfind(" ", 0, start) + 1
            word_end = text.find(" ", last + 1)
            if word_end < 0:
                word_end = len(text)
            taken = False
        elif taken:
            continue
        offset = last - length + 1 - word_start
        if 0 < offset < MIN_PART:
            continue
        size = word_end - word_start
        if size >= MIN_WORD and size >= length + MIN_PART:
            taken = True
            yield word_start, word_end


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
    _scan: _CandidateScan = field(default_factory=_CandidateScan, init=False, repr=False, compare=False)
    _word_parts: Callable[[str], _WordParts] = field(init=False, repr=False, compare=False)
    _suffixes: tuple[tuple[str, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # per matcher: a word's parts depend on this matcher's vocabulary, opaque list and endings
        object.__setattr__(self, "_word_parts", lru_cache(maxsize=CACHE_WORDS)(self._parts_in))
        # the endings in the set's own order (which stem is looked up first), with their lengths
        object.__setattr__(self, "_suffixes", tuple((e, len(e)) for e in self.endings if e))

    def matches(self, text: str, parts: Mapping[str, Sequence[P]]) -> Iterator[tuple[P, int, int]]:
        """(registered part, start, end) in the normalised ``text`` for every compound word holding one,
        in text order. ``parts``: the registered parts by spelling (a :class:`PartTable` is cheapest)."""
        automaton = self._scan.over(parts) if parts else None
        if automaton is None:
            return
        for start, end in _candidate_words(text, automaton):
            word = text[start:end]
            if not (word.isascii() and word.isalpha() and word.islower()):
                continue  # compounds are split in words of the letters a-z only, as normalised German is
            info = self._word_parts(word)
            for key in info.keys:
                for part in parts.get(key, ()):
                    if _transparent(info, part.form):
                        yield part, start, end

    def _parts_in(self, word: str) -> _WordParts:
        keys = [
            key
            for split in self.decompounder.splits(word)
            for key in dict.fromkeys([*split.first, *self._stems(split.head)])
        ]
        if not keys:
            return _NO_PARTS
        stems = self._stems(word)
        opaque = any(stem in self.opaque for stem in stems)
        own = next((found for stem in stems if (found := self.vocabulary.lookup(stem))), ())
        return _WordParts(tuple(keys), opaque, tuple(sense.english_tokens() for sense in own))

    def _stems(self, head: str) -> list[str]:
        return [head, *[head[:-n] for e, n in self._suffixes if head.endswith(e) and len(head) - n >= 3]]


def _transparent(info: _WordParts, form: Form) -> bool:
    if info.opaque:
        return False
    if not info.own or not form.sense:
        return True
    return any(not tokens.isdisjoint(form.sense) for tokens in info.own)
