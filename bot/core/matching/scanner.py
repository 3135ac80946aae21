"""One Aho-Corasick automaton over the normalised forms of the lexicon and of all free-text terms.

The cost of scanning an article depends on the article and on the hits, not on how many patterns exist.
Forms that must start a word are stored with a leading space and the text is scanned as " text ", so the
automaton itself enforces the left word boundary; the right boundary (inflection endings) and the
capitals rules are checked in Python for the few hits there are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

import ahocorasick

from bot.core.lang import detect_language
from bot.core.matching.compounds import CompoundMatcher, Decompounder
from bot.core.matching.lexicon import Form, Lexicon
from bot.core.matching.normalize import NormalText, normalize_text
from bot.core.matching.patterns import (
    ENDING_STARTS,
    ENDINGS_DE,
    ENDINGS_EN,
    MAX_ENDING,
    STRONG,
    HeadTable,
    Pattern,
    Patterns,
    Rest,
    TermRecord,
    add_pattern,
    append,
    empty_automaton,
    every,
    key_of,
    make_pattern,
    put,
    without,
)
from bot.core.matching.presence import Found, RawHit, Role, Scan, Tables, present
from bot.core.matching.vocabulary import Vocabulary

MIN_COMPOUND_HEAD = 3  # letters before a compound tail ("Gipfel|treffen"), so "ideal" is not "i|deal"
VIA_COMPOUND = "compound part"


class _Found(NamedTuple):
    """What one scan collects: strong hits by target, the other hits, vocabulary context words."""

    strong: dict[int, Found]
    others: list[RawHit]
    context: list[tuple[int, int, str]]

    def add(self, hit: RawHit | None) -> None:
        if hit is None:
            return
        if hit.role is STRONG:
            self.strong.setdefault(hit.target, []).append(hit)
        else:
            self.others.append(hit)


class Scanner:
    """Targets are small ints: lexicon entries first (their index in ``entry_ids``), then free-text terms."""

    def __init__(
        self, lexicon: Lexicon, vocabulary: Vocabulary | None = None, decompounder: Decompounder | None = None
    ) -> None:
        self.lexicon = lexicon
        self._compounds = CompoundMatcher(
            decompounder or Decompounder(), vocabulary or Vocabulary(), lexicon.opaque, ENDINGS_DE
        )
        # patterns by spelling, and compound-part forms by spelling: tuples, replaced on change (most spellings
        # have one pattern, and a one-item list costs 40 bytes more)
        self._parts: dict[str, tuple[Pattern, ...]] = {}
        self.entry_ids: list[str] = list(lexicon.entries)
        self.entry_index = {eid: i for i, eid in enumerate(self.entry_ids)}
        self._patterns: dict[str, Patterns] = {}
        self._context: dict[int, frozenset[int]] = {}
        self._term_targets: dict[str, int] = {}
        self._terms: dict[int, TermRecord] = {}  # one record per free-text term: one table entry, not three
        # context words of free terms are shared by many terms ("army" supports every military sense):
        # stored once per spelling, reference-counted, and looked at only when an ambiguous word occurs
        self._context_refs: dict[str, int] = defaultdict(int)
        self._term_context: dict[int, frozenset[str]] = {}
        self._tables = Tables(self.is_entry, self._context, self._term_context)
        self._entry_names: dict[str, list[str]] = {}
        self._next_target = len(self.entry_ids)
        # word-start forms, and compound tails (searched in German text only), each in one automaton;
        # after changes only the changed words are put in and the links are remade on the next scan
        self._heads = HeadTable()
        self._tails = empty_automaton()
        self._changed: set[str] = set()
        for index, entry_id in enumerate(self.entry_ids):
            self._add_entry(index, entry_id)

    # -- registration -------------------------------------------------------------------------------------
    def _add_entry(self, index: int, entry_id: str) -> None:
        entry = self.lexicon.entries[entry_id]
        for role, forms in (
            (Role.STRONG, entry.forms),
            (Role.WEAK, entry.weak),
            (Role.CONTEXT, entry.context_forms),
            (Role.NEGATIVE, entry.negative),
        ):
            for form in forms:
                add_pattern(self._patterns, key_of(form), make_pattern(index, role, form, True))
                self._changed.add(key_of(form))
        self._context[index] = frozenset(self.entry_index[c] for c in entry.context)

    def add_term(
        self, key: str, forms: Iterable[Form], label: str, weak: Iterable[Form] = (), context: Iterable[Form] = ()
    ) -> int:
        """Register a free-text term (reference-counted); returns its target id. ``weak`` forms count only
        with one of the ``context`` forms nearby."""
        target = self._term_targets.get(key)
        if target is not None:
            self._terms[target].refs += 1
            return target
        # ids are never reused: a focus predicate still holding an old id then simply finds nothing
        target = self._take_target()
        roles = [(Role.STRONG, f) for f in forms] + [(Role.WEAK, f) for f in weak]
        self._term_targets[key] = target
        if weak:  # context matters only for the ambiguous translations
            spellings = frozenset(key_of(f) for f in context)
            self._term_context[target] = spellings
            for spelling in spellings:
                self._context_refs[spelling] += 1
                self._changed.add(spelling)
        made = tuple(make_pattern(target, role, form, False) for role, form in roles)
        # the patterns, not the forms (they hold the forms' fields): one alone is kept without a tuple
        self._terms[target] = TermRecord(key, label, made[0] if len(made) == 1 else made)
        for pattern in made:
            add_pattern(self._patterns, key_of(pattern), pattern)
            self._changed.add(key_of(pattern))
            if pattern.compound and pattern.role is Role.STRONG:
                append(self._parts, pattern.norm, pattern)
        return target

    def release_term(self, target: int) -> None:
        """Release one registration of the free-text term ``target`` (other targets are ignored)."""
        term = self._terms.get(target)
        if term is None:
            return
        term.refs -= 1
        if term.refs > 0:
            return
        del self._terms[target], self._term_targets[term.key]
        for form in every(term.patterns):
            spelling = key_of(form)
            kept = without(self._patterns[spelling], target) if spelling in self._patterns else None
            if kept is None:
                self._patterns.pop(spelling, None)
            else:
                self._patterns[spelling] = kept
            parts = self._parts.get(form.norm)
            if parts is not None:
                kept_parts = tuple(p for p in parts if p.target != target)
                if kept_parts:
                    self._parts[form.norm] = kept_parts
                else:
                    del self._parts[form.norm]
            self._changed.add(spelling)
        for spelling in self._term_context.pop(target, ()):
            self._context_refs[spelling] -= 1
            if not self._context_refs[spelling]:
                del self._context_refs[spelling]
            self._changed.add(spelling)

    def _take_target(self) -> int:
        self._next_target += 1
        return self._next_target - 1

    def rarity(self, target: int) -> int:
        """Length of the target's shortest form: long words are rare words (Zipf), a cheap proxy for how
        seldom a term occurs."""
        if self.is_entry(target):
            entry = self.lexicon.entries[self.entry_ids[target]]
            forms = [*entry.forms, *entry.weak]
        else:
            term = self._terms.get(target)
            forms = list(every(term.patterns if term is not None else None))
        return min((len(f.norm) for f in forms), default=0)

    def entry_name(self, target: int, lang: str) -> str:
        names = self._entry_names.get(lang)
        if names is None:
            names = [self.lexicon.entries[entry_id].name(lang) for entry_id in self.entry_ids]
            self._entry_names[lang] = names
        return names[target]

    def term_label(self, target: int) -> str:
        term = self._terms.get(target)
        return term.label if term is not None else "?"

    def surface_keys(self) -> list[str]:
        return [" " + key for key in self._patterns.keys() | self._context_refs.keys()]

    def is_entry(self, target: int) -> bool:
        return target < len(self.entry_ids)

    def _built(self) -> tuple[HeadTable, ahocorasick.Automaton]:
        if self._changed:
            tails_changed = False
            for key in self._changed:  # word starts are searched with the leading space, tails without
                patterns = every(self._patterns.get(key))
                self._heads.put(" " + key, patterns, key if key in self._context_refs else "")
                tail_patterns = [p for p in patterns if p.tail]
                if tail_patterns or key in self._tails:
                    put(self._tails, key, tail_patterns, "")
                    tails_changed = True
            self._heads.make()
            if tails_changed:
                self._tails.make_automaton()
            self._changed.clear()
        return self._heads, self._tails

    # -- scanning -----------------------------------------------------------------------------------------
    def scan(self, text: str, lang: str | None = None) -> Scan:
        normal = normalize_text(text)
        padded = " " + normal.text + " "
        language = [lang]  # decided lazily: most articles never need it
        found = _Found({}, [], [])
        heads, tails = self._built()
        self._scan_words(heads, padded, normal, language, found)
        if len(tails) > 1 and _language(language, normal) == "de":
            self._scan_tails(tails, padded, normal, language, found)
        if self._parts and _language(language, normal) == "de":
            for pattern, begin, stop in self._compounds.matches(padded, self._parts):
                start, end = normal.source_span(begin - 1, stop - 1)
                found.add(RawHit(pattern.target, pattern.role, start, end, normal.source[start:end], VIA_COMPOUND))
        return Scan(found.strong, found.others, language[0], found.context, normal)

    def _scan_words(self, heads: HeadTable, padded: str, normal: NormalText, language: list, found: _Found) -> None:
        """The hot loop: every spelling that starts a word (≈ 30 per article). A whole-word occurrence of a
        plain strong pattern is a hit at once, recorded as a mark (grouped by target, as presence reads them);
        the rarer kinds of pattern are handed to :meth:`_whole_rest`; a spelling followed by more letters
        costs one character test unless an ending could follow."""
        strong = found.strong
        starts = ENDING_STARTS
        lengths, values = heads.lengths, heads.values
        for last, slot in heads.automaton.iter(padded):
            stop = last + 1
            char = padded[stop]
            if char == " ":  # a whole word
                begin = stop - lengths[slot]
                value = values[slot]
                if type(value) is int:  # one plain strong pattern: a mark only (hits are built by Scan.built)
                    group = strong.get(value)
                    if group is None:
                        strong[value] = [(begin, last)]
                    else:
                        group.append((begin, last))
                    continue
                plain, _, rest, _ = value  # type: ignore[misc]
                for target in plain:
                    group = strong.get(target)
                    if group is None:
                        strong[target] = [(begin, last)]
                    else:
                        group.append((begin, last))
                if rest is not None:
                    self._whole_rest(rest, normal, begin, stop, language, found)
                continue
            if char not in starts:
                continue  # the start of a longer word ("us" in "use"): no ending begins with that letter
            word_end = padded.find(" ", stop, stop + MAX_ENDING + 1)
            if word_end < 0:
                continue  # no ending is that long
            # every form's endings are English ones or, in German text, German ones: most continuations of a
            # spelling ("deal|ing") are no ending of any form and need no look at its patterns
            ending = padded[stop:word_end]
            if ending not in ENDINGS_EN and (ending not in ENDINGS_DE or _language(language, normal) != "de"):
                continue
            word_start = stop - lengths[slot] + 1
            value = values[slot]
            if type(value) is int:  # its one pattern: plain, strong and taking every ending
                ending_plain, patterns = (value,), ()
            else:
                _, patterns, rest, ending_plain = value  # type: ignore[misc]
                if rest is not None and rest[0]:  # a context word with an ending ("troops'"): any ending
                    # that passed the test above is one a plain word takes
                    start, end = normal.source_span(word_start - 1, word_end - 1)
                    found.context.append((start, end, rest[0]))
            # the plain strong patterns taking every ending passed the test above: marks, as for a whole word
            for target in ending_plain:
                group = strong.get(target)
                if group is None:
                    strong[target] = [(word_start - 1, word_end - 1)]
                else:
                    group.append((word_start - 1, word_end - 1))
            for pattern in patterns:
                found.add(self._check(pattern, normal, word_start, stop, word_end, ending, language))

    def _whole_rest(
        self, rest: Rest, normal: NormalText, begin: int, stop: int, language: list, found: _Found
    ) -> None:
        """The rarer parts of a whole-word occurrence: a context word of free terms, plain non-strong
        patterns, and patterns that need a check even without an ending (capitals, full names)."""
        spelling, checked, plain_other = rest
        start, end = (begin, stop - 1) if normal.aligned else normal.source_span(begin, stop - 1)
        if plain_other:
            surface = normal.source[start:end]
            for target, role, via in plain_other:  # strong ones (with a via) join the target's other hits
                found.add(tuple.__new__(RawHit, (target, role, start, end, surface, via)))  # no _make frame
        if spelling:
            found.context.append((start, end, spelling))
        for pattern in checked:
            found.add(self._check(pattern, normal, begin + 1, stop, stop, "", language))

    def _scan_tails(
        self, tails: ahocorasick.Automaton, padded: str, normal: NormalText, language: list, found: _Found
    ) -> None:
        """Forms that may close a German compound ("Milliarden|waffendeal")."""
        for last, (length, _, patterns, _) in tails.iter(padded):
            begin = last - length + 1
            if padded[begin - 1] == " " or _head_length(padded, begin) < MIN_COMPOUND_HEAD:
                continue  # a word start was found by the first automaton; "i|deal" is no compound
            word_start = padded.rfind(" ", 0, begin) + 1
            stop = last + 1
            word_end = padded.find(" ", stop)
            ending = padded[stop:word_end]
            for pattern in patterns:
                found.add(self._check(pattern, normal, word_start, stop, word_end, ending, language))

    def _check(
        self,
        pattern: Pattern,
        normal: NormalText,
        word_start: int,
        stop: int,
        word_end: int,
        ending: str,
        language: list,
    ) -> RawHit | None:
        """A pattern whose spelling ends at ``stop`` (padded offsets) in a word ending at ``word_end``."""
        if ending not in pattern.endings and not (
            pattern.endings is ENDINGS_EN and ending in ENDINGS_DE and _language(language, normal) == "de"
        ):
            return None  # the endings rule of the pattern's form, decided when the pattern was made
        form = pattern  # it holds its form's fields
        aligned = normal.aligned
        start, end = (word_start - 1, word_end - 1) if aligned else normal.source_span(word_start - 1, word_end - 1)
        source = normal.source
        if not pattern.plain:  # a plain pattern is no acronym, no capitalised form and no weak name of an entry
            if form.acronym:  # its letters without the ending must be capitals
                core_end = stop - 1 if aligned else normal.source_span(word_start - 1, stop - 1)[1]
                if not source[start:core_end].isupper():
                    return None
            if form.capital and not source[start : start + 1].isupper():
                return None
            weak_name = pattern.role is Role.WEAK and self.is_entry(pattern.target)
            if weak_name and _starts_full_name(source, end, normal, language):
                return None
        return tuple.__new__(RawHit, (pattern.target, pattern.role, start, end, source[start:end], form.via))

    def present(self, scan: Scan, relaxed: bool = False, keep_nested: bool = False) -> dict[int, Found]:
        """Targets the text is about, with their hits (see presence.py)."""
        return present(scan, self._tables, relaxed, keep_nested)


def _starts_full_name(source: str, end: int, normal: NormalText, language: list) -> bool:
    """In English running text a capitalised word right after an ambiguous first name makes it someone
    else's full name ("Kim Wehle", "Kim Hyun-woo"). German capitalises every noun, and headlines in title
    case capitalise every word, so neither is evidence there."""
    if source[end : end + 1] != " " or not source[end + 1 : end + 2].isupper():
        return False
    if not source[end + 2 : end + 3].islower():
        return False
    if _language(language, normal) != "en":
        return False
    line_start = source.rfind("\n", 0, end) + 1
    line_end = source.find("\n", end)
    line = source[line_start : line_end if line_end >= 0 else len(source)]
    return not _title_case(line)


def _title_case(line: str) -> bool:
    long_words = [w for w in line.split() if len(w) > 3 and w[0].isalpha()]
    return bool(long_words) and sum(w[0].isupper() for w in long_words) >= 0.6 * len(long_words)


def _head_length(padded: str, begin: int) -> int:
    space = padded.rfind(" ", 0, begin)
    return begin - space - 1


def _language(cache: list, normal: NormalText) -> str:
    if cache[0] is None:
        cache[0] = detect_language(normal.source)
    return cache[0]
