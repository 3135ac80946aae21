"""How a trend counts one query without re-matching the archive.

A query whose terms are all lexicon entities is decided from the entity keys stored at ingest (the same
``present`` the matcher computes), with the query's AND/OR/NOT applied to them. A query with free-text terms
is narrowed to candidate articles (stored keys for its entity terms, the full-text index and, for German
compound tails, a substring search for its words) and every candidate is decided as the MatchEngine decides
(bot/core/trends/confirm.py), so the meaning is exactly that of a subscription.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.i18n import N_
from bot.core.matching.engine import CompiledQuery
from bot.core.matching.query import And, Node, Not, Term, evaluate, positive_terms
from bot.core.matching.terms import Atom
from bot.core.trends.periods import TrendRefused

MIN_STEM = 4  # a word's stem for prefix search keeps this many letters at least ("kalter" → "kalt*")
# German case and plural endings (a superset is harmless: the stem only widens the candidate search)
_ENDINGS = ("ern", "ens", "ses", "sen", "en", "er", "em", "es", "ns", "se", "e", "n", "s")
_UMLAUTS = (("ae", "ä"), ("oe", "ö"), ("ue", "ü"), ("ss", "ß"))


@dataclass(frozen=True, slots=True)
class TextSearch:
    """Ways to find candidates for one free-text term: full-text word sets (every word as a prefix) and
    substrings for German compounds it may close ("treffen" in "Gipfeltreffen")."""

    word_sets: tuple[tuple[str, ...], ...]
    tails: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QueryPlan:
    compiled: CompiledQuery
    keys: tuple[str, ...]  # every entity key the query mentions (negated ones too)
    positive_keys: tuple[str, ...]  # entity keys one of which a matching article may name
    searches: tuple[TextSearch, ...]  # one per positive free-text term

    @property
    def query(self) -> str:
        return self.compiled.text

    @property
    def exact(self) -> bool:
        """Decided from stored keys alone (no free-text term anywhere in the query)."""
        return all(atom.entry_id is not None for atom in self.compiled.atoms.values())

    @property
    def single(self) -> bool:
        """One entity and nothing else: every stored row of its key is a match."""
        return isinstance(self.compiled.node, Term) and self.exact

    def holds(self, present: set[str] | frozenset[str]) -> bool:
        """The query's boolean structure over the entity keys an article names (exact plans only)."""
        atoms = self.compiled.atoms
        return evaluate(self.compiled.node, lambda term: atoms[term].key in present)


def matching_ids(plan: QueryPlan, naming: Mapping[str, set[int]]) -> set[int]:
    """The query's AND/OR/NOT as set operations over the articles naming each key (exact plans). The
    universe is the articles naming a positive key: no other article can match (``plan_query`` refuses
    queries that hold for an article naming nothing, and naming a negated key only makes a query false)."""
    atoms = plan.compiled.atoms
    universe: set[int] = set().union(*(naming.get(k, set()) for k in plan.positive_keys))

    def articles(node: Node) -> set[int]:
        if isinstance(node, Term):
            return naming.get(atoms[node].key, set()) & universe
        if isinstance(node, Not):
            return universe - articles(node.child)
        parts = [articles(child) for child in node.children]
        if isinstance(node, And):
            return set.intersection(*parts)
        return set().union(*parts)

    return articles(plan.compiled.node)


def plan_query(compiled: CompiledQuery) -> QueryPlan:
    """Raises TrendRefused for a query that would hold for an article naming nothing ("-Trump"): there is
    nothing to count it by."""
    atoms = compiled.atoms
    if evaluate(compiled.node, lambda term: False):
        raise TrendRefused(N_("A trend needs something to look for, not only words to leave out: {query}"),
                           query=compiled.text)
    positive = {atoms[t].key: atoms[t] for t in positive_terms(compiled.node)}
    return QueryPlan(
        compiled=compiled,
        keys=tuple(sorted({a.key for a in atoms.values() if a.entry_id is not None})),
        positive_keys=tuple(sorted(k for k, a in positive.items() if a.entry_id is not None)),
        searches=tuple(text_search(a) for a in positive.values() if a.entry_id is None),
    )


def text_search(atom: Atom) -> TextSearch:
    word_sets: dict[tuple[str, ...], None] = {}
    for spelling in [atom.label, *(form.norm for form in atom.forms)]:
        for variant in _spellings(spelling):
            words = tuple(_stem(w) for w in _words(variant))
            if words:
                word_sets.setdefault(words, None)
    # A form may close a compound either as a lexicon tail ("-chef") or as a decompounded German word
    # ("Gipfel|treffen"): both need the substring search, the full-text index only sees whole words.
    tails = {v: None for form in atom.forms if form.tail or form.compound for v in _spellings(form.norm)}
    return TextSearch(tuple(word_sets), tuple(tails))


def _words(text: str) -> list[str]:
    """Words as the full-text tokenizer sees them: letters and digits, apostrophes and hyphens split."""
    cleaned = "".join(c if c.isalnum() else " " for c in text.lower())
    return cleaned.split()


def _spellings(norm: str) -> list[str]:
    """The matcher spells umlauts out (ä → ae), the full-text index keeps the base letter (ä → a):
    search both ways so neither "Bürger" nor "Buerger" is missed."""
    found = [norm]
    for spelled, letter in _UMLAUTS:
        if spelled in norm:
            found.append(norm.replace(spelled, letter))
            if letter != "ß":
                found.append(norm.replace(spelled, spelled[0]))
    return list(dict.fromkeys(found))


def _stem(word: str) -> str:
    """The word without a German ending, searched as a prefix, so inflected forms are candidates too."""
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            return word[: len(word) - len(ending)]
    return word
