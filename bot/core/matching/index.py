"""All active subscriptions compiled into one scanner: the cost per article does not grow with them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable

from bot.core.matching.engine import BoundQuery, MatchEngine, MatchResult
from bot.core.matching.scanner import Scanner


class SubscriptionIndex:
    """Subscriptions by key (e.g. subscription id). Identical queries are compiled and evaluated once;
    only queries with a present positive term are evaluated for an article."""

    def __init__(self, engine: MatchEngine) -> None:
        self._engine = engine
        self._scanner = Scanner(engine.lexicon)
        self._query_of: dict[Hashable, str] = {}  # subscription key → canonical query key
        self._keys_of: dict[str, set[Hashable]] = {}
        self._bound: dict[str, BoundQuery] = {}
        self._by_target: dict[int, set[str]] = defaultdict(set)

    def add(self, key: Hashable, query: str) -> None:
        """Raises QueryError (nothing changes) when the query cannot be understood."""
        compiled = self._engine.compile(query)
        if key in self._query_of:
            self.remove(key)
        qkey = compiled.key
        if qkey not in self._bound:
            bound = BoundQuery(compiled, self._scanner)  # registering terms makes the scanner rebuild lazily
            self._bound[qkey] = bound
            for target in bound.positive:
                self._by_target[target].add(qkey)
        self._keys_of.setdefault(qkey, set()).add(key)
        self._query_of[key] = qkey

    def remove(self, key: Hashable) -> None:
        qkey = self._query_of.pop(key, None)
        if qkey is None:
            return
        keys = self._keys_of[qkey]
        keys.discard(key)
        if keys:
            return
        del self._keys_of[qkey]
        bound = self._bound.pop(qkey)
        for target in bound.positive:
            self._by_target[target].discard(qkey)
            if not self._by_target[target]:
                del self._by_target[target]
        bound.release()

    def __len__(self) -> int:
        return len(self._query_of)

    def __contains__(self, key: object) -> bool:
        return key in self._query_of

    def match(self, text: str, lang: str | None = None) -> dict[Hashable, MatchResult]:
        """The subscriptions ``text`` (title + blank line + body) matches, each with its explanation."""
        if not self._query_of:
            return {}
        present = self._scanner.present(self._scanner.scan(text, lang))
        candidates: set[str] = set()
        for target in present:
            candidates.update(self._by_target.get(target, ()))
        results: dict[Hashable, MatchResult] = {}
        for qkey in candidates:
            bound = self._bound[qkey]
            result = bound.result(present, self._engine.namer(self._scanner, bound, text, lang))
            if result.matched:
                for key in self._keys_of[qkey]:
                    results[key] = result
        return results
