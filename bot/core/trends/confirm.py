"""Deciding a free-text trend query for its candidate articles at a fraction of a full match.

A full ``MatchEngine.match`` scans each candidate for every name of the lexicon and every subscription's
free-text term, to decide one query. The same answer needs much less:

- a free-text term is a strong pattern of its own target, and whether it is present depends only on its
  own forms (no other pattern shadows, vetoes or supports it), so a scanner holding only the query's
  free-text terms finds exactly the hits the engine's scanner finds for them;
- whether an entity term is present is what the scan at ingest stored as the article's keys (the same
  ``ArticleView.present``), read per period from ``article_mentions``.

The query's AND/OR/NOT over those two is the engine's answer. Articles whose keys were not stored yet are
left to the engine (the caller asks :meth:`TextConfirmer.decides` first).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from bot.core.matching.engine import MatchEngine
from bot.core.matching.lexicon import Lexicon
from bot.core.matching.query import Term, evaluate
from bot.core.matching.scanner import Scanner
from bot.core.trends.plan import QueryPlan


class TextConfirmer:
    """One query's free-text terms in a scanner of their own, compiled once and reused for every candidate.

    Not thread-safe (the automaton is built on the first scan): use one per counting job, in one thread at
    a time."""

    def __init__(self, plan: QueryPlan, naming: Mapping[str, Collection[int]], engine: MatchEngine) -> None:
        self._node = plan.compiled.node
        # No lexicon entry (entities come from ``naming``), but the engine's compound splitting, vocabulary and
        # opaque compounds: "Treffen" must find "Gipfeltreffen" exactly as the engine does, not "Betreffend".
        self._scanner = Scanner(
            Lexicon(entries={}, opaque=engine.lexicon.opaque), engine.vocabulary, engine.decompounder
        )
        self._targets: dict[Term, int] = {}
        self._keys: dict[Term, str] = {}
        for term, atom in plan.compiled.atoms.items():
            if atom.entry_id is None:
                self._targets[term] = self._scanner.add_term(atom.key, atom.forms, atom.label)
            else:
                self._keys[term] = atom.key
        # article ids naming each entity key of the query in the counted period (negated keys too)
        self._naming = {key: frozenset(naming.get(key, ())) for key in set(self._keys.values())}

    def matches(self, article_id: int, text: str, lang: str | None) -> bool:
        """Does the query match this article (title + blank line + body, as the matcher reads it)?"""
        present = self._scanner.present(self._scanner.scan(text, lang))

        def truth(term: Term) -> bool:
            target = self._targets.get(term)
            if target is not None:
                return target in present
            return article_id in self._naming[self._keys[term]]

        return evaluate(self._node, truth)
