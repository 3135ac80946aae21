"""A plain keyword focus test, for when the matching engine is not available.

The product's focus test is ``MatchEngine.focus_predicate`` (entities with their aliases: a bullet for
``Putin`` may name "Kremlchef"). This one only finds the query's own words, so tools keep working without it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_OPERATORS = frozenset({"and", "or", "not", "und", "oder", "nicht"})
_PHRASE = re.compile(r'"([^"]+)"|(\S+)')


def keyword_focus(query: str) -> Callable[[str], bool]:
    """True for a sentence containing any positive term of ``query`` at a word start (case-insensitive);
    a few trailing letters are allowed for inflection ("Putins"). Operators and ``-excluded`` terms are
    ignored."""
    patterns = [re.compile(rf"(?<!\w){re.escape(term)}\w{{0,3}}(?!\w)", re.IGNORECASE) for term in _terms(query)]

    def mentions(sentence: str) -> bool:
        return any(pattern.search(sentence) for pattern in patterns)

    return mentions


def _terms(query: str) -> list[str]:
    terms = []
    for phrase, word in _PHRASE.findall(query):
        term = (phrase or word).strip("()")
        if not term or term.startswith("-") or term.casefold() in _OPERATORS:
            continue
        terms.append(term)
    return terms
