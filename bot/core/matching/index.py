"""All active subscriptions compiled into one scanner: the cost per article does not grow with them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable

from bot.core.matching.engine import ArticleView, BoundQuery, MatchEngine, MatchResult


class SubscriptionIndex:
    """Subscriptions by key (e.g. subscription id). Identical queries are compiled once; one-term queries
    (most of them) are answered per present term, others are evaluated only when a term they need is
    present. The automaton is rebuilt lazily, on the first match after subscriptions changed."""

    def __init__(self, engine: MatchEngine) -> None:
        self._engine = engine
        self._scanner = engine.new_scanner()
        self._query_of: dict[Hashable, str] = {}  # subscription key → canonical query key
        self._keys_of: dict[str, set[Hashable]] = {}
        self._bound: dict[str, BoundQuery] = {}
        self._single_keys: dict[int, set[Hashable]] = defaultdict(set)  # target → one-term subscriptions
        self._by_target: dict[int, set[str]] = defaultdict(set)  # target → boolean queries it triggers
        # "A -B -C" queries: answered by set difference, without evaluating each query
        self._guarded: dict[int, set[str]] = defaultdict(set)  # required target → queries
        self._forbidding: dict[int, set[str]] = defaultdict(set)  # excluded target → queries
        self._guarded_keys: dict[int, set[Hashable]] = defaultdict(set)  # required target → subscriptions

    def add(self, key: Hashable, query: str) -> None:
        """Raises QueryError (nothing changes) when the query cannot be understood."""
        compiled = self._engine.compile(query)
        if key in self._query_of:
            self.remove(key)
        qkey = compiled.key
        bound = self._bound.get(qkey)
        if bound is None:
            bound = BoundQuery(compiled, self._scanner)  # registering terms makes the scanner rebuild lazily
            self._bound[qkey] = bound
            self._file(qkey, bound)
        if bound.single is not None:
            self._single_keys[bound.single].add(key)
        guarded = _guarded_form(bound)
        if guarded is not None:
            self._guarded_keys[guarded[0]].add(key)
        self._keys_of.setdefault(qkey, set()).add(key)
        self._query_of[key] = qkey

    def remove(self, key: Hashable) -> None:
        qkey = self._query_of.pop(key, None)
        if qkey is None:
            return
        bound = self._bound[qkey]
        if bound.single is not None:
            _discard(self._single_keys, bound.single, key)
        guarded = _guarded_form(bound)
        if guarded is not None:
            _discard(self._guarded_keys, guarded[0], key)
        keys = self._keys_of[qkey]
        keys.discard(key)
        if keys:
            return
        del self._keys_of[qkey], self._bound[qkey]
        self._unfile(qkey, bound)
        bound.release()

    def _file(self, qkey: str, bound: BoundQuery) -> None:
        if bound.single is not None:
            return
        guarded = _guarded_form(bound)
        if guarded is not None:
            required, forbidden = guarded
            self._guarded[required].add(qkey)
            for target in forbidden:
                self._forbidding[target].add(qkey)
            return
        for target in bound.trigger:
            self._by_target[target].add(qkey)

    def _unfile(self, qkey: str, bound: BoundQuery) -> None:
        if bound.single is not None:
            return
        guarded = _guarded_form(bound)
        if guarded is not None:
            required, forbidden = guarded
            _discard(self._guarded, required, qkey)
            for target in forbidden:
                _discard(self._forbidding, target, qkey)
            return
        for target in bound.trigger:
            _discard(self._by_target, target, qkey)

    def __len__(self) -> int:
        return len(self._query_of)

    def surface_keys(self) -> list[str]:
        """Every spelling the automaton looks for (for benchmarks: the floor a bare scan of them costs)."""
        return self._scanner.surface_keys()

    def __contains__(self, key: object) -> bool:
        return key in self._query_of

    def match(self, text: str, lang: str | None = None) -> dict[Hashable, MatchResult]:
        """The subscriptions ``text`` (title + blank line + body) matches, each with its explanation."""
        if not self._query_of:
            return {}
        return self.match_view(self.view(text, lang))

    def view(self, text: str, lang: str | None = None) -> ArticleView:
        """One scan of ``text``; the pipeline also reads which entities it names (bot/core/matching/keys.py)."""
        return ArticleView(self._engine.lexicon, self._scanner, text, lang)

    def match_view(self, view: ArticleView) -> dict[Hashable, MatchResult]:
        """:meth:`match` for an article already scanned with :meth:`view`."""
        results: dict[Hashable, MatchResult] = {}
        candidates: set[str] = set()
        present = view.present
        forbidding, singles, guards, by_target = self._forbidding, self._single_keys, self._guarded, self._by_target
        excluded: set[str] = set()
        if forbidding:
            for target in present:
                if target in forbidding:
                    excluded |= forbidding[target]
        for target in present:
            single = singles.get(target)
            if single:
                results.update(dict.fromkeys(single, view.single(target)))
            guarded = guards.get(target)
            if guarded:
                blocked = guarded & excluded if excluded else None
                if not blocked:  # usually none of the excluded terms is present: all of them match
                    results.update(dict.fromkeys(self._guarded_keys[target], view.single(target)))
                else:
                    for qkey in guarded - blocked:
                        results.update(dict.fromkeys(self._keys_of[qkey], view.single(target)))
            boolean = by_target.get(target)
            if boolean:
                candidates.update(boolean)
        for qkey in candidates:
            result = self._bound[qkey].result(view)
            if result.matched:
                results.update(dict.fromkeys(self._keys_of[qkey], result))
        return results


def _guarded_form(bound: BoundQuery) -> tuple[int, frozenset[int]] | None:
    """(required, forbidden) for queries of the form "A -B -C" (one required term)."""
    if bound.conjunction is None:
        return None
    required, forbidden = bound.conjunction
    if len(required) != 1 or required & forbidden:
        return None
    return next(iter(required)), forbidden


def _discard(mapping: dict, target: object, value: object) -> None:
    values = mapping.get(target)
    if values is not None:
        values.discard(value)
        if not values:
            del mapping[target]
