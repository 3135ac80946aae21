"""How the scanner's patterns are laid out in its Aho-Corasick automata: the endings a form may take, one
record per pattern, and the value stored per spelling, shaped for the scan loop (see scanner.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import ahocorasick

from bot.core.matching.lexicon import Form
from bot.core.matching.presence import Role

# Endings a name or noun may take and still be the same word. English only adds -s (plural, possessive);
# German adds case and plural endings, which in English text would turn "deal" into "dealer".
ENDINGS_EN = frozenset({"", "s", "es", "'s", "'", "s'"})
ENDINGS_DE = ENDINGS_EN | frozenset({"n", "en", "e", "er", "em", "ern", "ns", "ens", "ses", "se", "sen"})
ENDINGS_SHORT = frozenset({"", "s", "'s", "'"})
ENDINGS_POSSESSIVE = frozenset({"", "'s", "'"})
MAX_ENDING = max(len(e) for e in ENDINGS_DE)
ENDING_STARTS = "".join(sorted({e[0] for e in ENDINGS_DE if e}))  # a str: one-character tests are fastest
STRONG = Role.STRONG


@dataclass(frozen=True, slots=True)
class Pattern(Form):
    """A form registered for a target in a role. One object with the form's fields, not a record pointing
    at the form: a free term's forms are then freed once it is registered (100k terms make that count)."""

    target: int = 0
    role: Role = Role.STRONG
    plain: bool = True  # a whole-word occurrence is a hit without further checks
    endings: frozenset[str] = ENDINGS_EN  # the endings it takes in any text (ENDINGS_EN: German ones too)

    @property
    def form(self) -> Form:
        """The form it was made of (the compound matcher reads its ``sense``): itself."""
        return self


_FORM_FIELDS = tuple(f.name for f in fields(Form))


def make_pattern(target: int, role: Role, form: Form, entry: bool) -> Pattern:
    # a weak name of a lexicon entry is checked against a following capitalised word ("Kim Wehle"); an
    # ambiguous translation of a free term needs only its context, which presence looks at
    plain = not (form.acronym or form.capital or (entry and role is Role.WEAK))
    if form.exact:
        endings = ENDINGS_POSSESSIVE
    elif form.acronym or form.capital:
        endings = ENDINGS_SHORT
    else:
        endings = ENDINGS_EN
    return Pattern(*(getattr(form, name) for name in _FORM_FIELDS), target, role, plain, endings)  # type: ignore[misc]


def key_of(form: Form) -> str:
    """The key of a form's spelling in the scanner's tables: the form's own string, not a copy (the
    automaton's word is it with a leading space, made only when the automaton is changed)."""
    return form.norm


def empty_automaton() -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    automaton.add_word("\x00", (1, (), (), None))  # never in normalised text; an automaton needs one word
    automaton.make_automaton()
    return automaton


# (spelling when it is a context word of free terms else "", patterns to check even for a whole word, the
# other plain ones as (target, role, via): non-strong ones and strong ones with a via, e.g. translations):
# None for most spellings, so the scan loop tests one value
Rest = tuple[str, tuple[Pattern, ...], tuple[tuple[int, Role, str], ...]]
# what a spelling of the word-start automaton stands for, beyond its length: the target of its one plain
# strong pattern taking every ending (the most common case, an int the pattern already holds: no object per
# spelling), else (targets of the plain strong patterns without a via; the patterns to check when an ending
# follows; the rest or None; the targets a word with an ending is at once a hit of: the plain strong ones
# that take every ending)
Value = int | tuple[tuple[int, ...], tuple[Pattern, ...], Rest | None, tuple[int, ...]]


def append(table: dict[str, tuple[Pattern, ...]], key: str, pattern: Pattern) -> None:
    table[key] = (*table.get(key, ()), pattern)


# The patterns of one spelling in the scanner's main table: the pattern alone when it is the only one (most
# spellings: a one-item tuple costs 56 bytes), else a tuple, replaced on change
Patterns = Pattern | tuple[Pattern, ...]


def add_pattern(table: dict[str, Patterns], key: str, pattern: Pattern) -> None:
    old = table.get(key)
    table[key] = pattern if old is None else (*every(old), pattern)


def every(patterns: Patterns | None) -> tuple[Pattern, ...]:
    if patterns is None:
        return ()
    return patterns if type(patterns) is tuple else (patterns,)  # type: ignore[return-value]


@dataclass(slots=True, eq=False)
class TermRecord:
    """A registered free-text term: its key, label, patterns (see :data:`Patterns`) and registrations."""

    key: str
    label: str
    patterns: Patterns
    refs: int = 1


def without(patterns: Patterns, target: int) -> Patterns | None:
    """``patterns`` without those of ``target`` (None: none left)."""
    kept = tuple(p for p in every(patterns) if p.target != target)
    return kept if len(kept) > 1 else kept[0] if kept else None


class HeadTable:
    """The word-start automaton. It stores plain ints (no Python object per spelling): the slot of the
    spelling in two parallel lists, its length and its :data:`Value`. Slots of removed spellings are
    reused, so the lists stay as long as the most spellings ever present at once."""

    __slots__ = ("automaton", "free", "lengths", "values")

    def __init__(self) -> None:
        self.automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        self.automaton.add_word("\x00", 0)  # never in normalised text; an automaton needs one word
        self.automaton.make_automaton()
        self.lengths: list[int] = [1]
        self.values: list[Value | None] = [((), (), None)]
        self.free: list[int] = []

    def put(self, word: str, patterns: Sequence[Pattern], context: str) -> None:
        """Store ``word``'s value (see :data:`Value`), or remove the word when nothing needs it. ``context``:
        the spelling when it is a context word of free terms, else ""."""
        slot = self.automaton.get(word, -1)
        if not patterns and not context:
            if slot >= 0:
                self.automaton.remove_word(word)
                self.values[slot] = None
                self.free.append(slot)
            return
        if slot < 0:
            slot = self.free.pop() if self.free else len(self.values)
            if slot == len(self.values):
                self.lengths.append(0)
                self.values.append(None)
            self.automaton.add_word(word, slot)
        self.lengths[slot] = len(word)
        self.values[slot] = _value(patterns, context)

    def make(self) -> None:
        self.automaton.make_automaton()


def _value(patterns: Sequence[Pattern], context: str) -> Value:
    plain = tuple(p.target for p in patterns if p.plain and p.role is STRONG and not p.via)
    plain_other = tuple(
        (p.target, p.role, p.via) for p in patterns if p.plain and (p.role is not STRONG or p.via)
    )
    checked = tuple(p for p in patterns if not p.plain)
    rest = (context, checked, plain_other) if context or checked or plain_other else None
    # a word the scan loop let through with an ending takes one of ENDINGS_EN (or, in German text, of
    # ENDINGS_DE), which is what such a pattern's own check would test again
    ending_plain = tuple(p.target for p in patterns if _any_ending(p))
    if rest is None and len(ending_plain) == 1 and len(patterns) == 1:
        return ending_plain[0]  # the pattern's own int
    if ending_plain == plain:
        ending_plain = plain  # most spellings: one tuple for both
    # without such patterns, the scanner's own tuple, not a copy (replaced and put in again on every change)
    on_ending = tuple(p for p in patterns if not _any_ending(p)) if ending_plain else tuple(patterns)
    return (plain, on_ending, rest, ending_plain)


def _any_ending(pattern: Pattern) -> bool:
    return pattern.plain and pattern.role is STRONG and not pattern.via and pattern.endings is ENDINGS_EN


def put(automaton: ahocorasick.Automaton, key: str, patterns: Sequence[Pattern], context: str) -> None:
    """The compound-tail automaton's value: (length; the targets of the plain strong patterns without a via;
    all patterns; the rest, see ``Rest``). ``context``: the spelling when it is a context word of free
    terms, else "" (tails have none)."""
    if patterns or context:
        value = _value(patterns, context)
        plain, rest = ((value,), None) if isinstance(value, int) else (value[0], value[2])
        automaton.add_word(key, (len(key), plain, tuple(patterns), rest))
    elif key in automaton:
        automaton.remove_word(key)
