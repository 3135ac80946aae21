"""How the scanner's patterns are laid out in its Aho-Corasick automata: the endings a form may take, one
record per pattern, and the value stored per spelling, shaped for the scan loop (see scanner.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
class Pattern:
    target: int
    role: Role
    form: Form
    plain: bool  # a whole-word occurrence is a hit without further checks
    endings: frozenset[str]  # the endings it takes in any text (one shared set; ENDINGS_EN: German ones too)


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
    return Pattern(target, role, form, plain, endings)


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


def append(table: dict[str, tuple[Pattern, ...]], key: str, pattern: Pattern) -> None:
    table[key] = (*table.get(key, ()), pattern)


def put(automaton: ahocorasick.Automaton, key: str, patterns: Sequence[Pattern], context: str) -> None:
    """The value, laid out for the scan loop: (length; the targets of the plain strong patterns without a via
    — a whole-word occurrence is a hit at once; all patterns, checked when the word has an ending; the rest,
    see ``Rest``). The targets are the patterns' own ints: no (target, via) pair per pattern. ``context``:
    the spelling when it is a context word of free terms, else ""."""
    if patterns or context:
        plain = tuple(p.target for p in patterns if p.plain and p.role is STRONG and not p.form.via)
        plain_other = tuple(
            (p.target, p.role, p.form.via) for p in patterns if p.plain and (p.role is not STRONG or p.form.via)
        )
        checked = tuple(p for p in patterns if not p.plain)
        rest = (context, checked, plain_other) if context or checked or plain_other else None
        # the scanner's own tuple, not a copy: it is replaced and put in again whenever it changes
        automaton.add_word(key, (len(key), plain, patterns, rest))
    elif key in automaton:
        automaton.remove_word(key)
