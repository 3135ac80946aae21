"""All active subscriptions compiled into one scanner: the cost per article does not grow with them."""

from __future__ import annotations

from collections.abc import Callable, Container, Hashable

from bot.core.matching.engine import ArticleView, BoundQuery, MatchEngine, MatchResult


class _Query:
    """One distinct query, shared by every subscription to it: its compiled form and their keys."""

    __slots__ = ("bound", "keys", "qkey")

    def __init__(self, qkey: str, bound: BoundQuery) -> None:
        self.qkey = qkey
        self.bound = bound
        # a tuple, replaced on change: most queries have one subscriber (a list costs 40 bytes more, a set 200)
        self.keys: tuple[Hashable, ...] = ()


class _Target:
    """Everything a present target decides, in one lookup: the subscribers of the one-term query of it
    (held here directly: no separate query record for the most common kind), the "A -B -C" queries it is
    the A of, and the boolean queries it triggers. Tuples, replaced on change: reading them is the hot path,
    changing them the rare one. Terms that are only ever excluded (the B, C) have no record: an article
    names many of them, and they are looked at only when their A is present."""

    __slots__ = ("boolean", "bound", "guarded", "keys", "qkey", "target")

    def __init__(self, target: int) -> None:
        self.target = target
        # the one-term query: its compiled form (None while nobody subscribes to it), key and subscribers
        self.bound: BoundQuery | None = None
        self.qkey = ""
        self.keys: tuple[Hashable, ...] = ()
        self.guarded: tuple[_Query, ...] = ()
        self.boolean: tuple[_Query, ...] = ()

    def empty(self) -> bool:
        return self.bound is None and not (self.guarded or self.boolean)


# _attach or _detach: (targets, target, role, query)
_Change = Callable[[dict[int, _Target], int, str, _Query], None]


class SubscriptionIndex:
    """Subscriptions by key (e.g. subscription id). Identical queries are compiled once; one-term queries
    (most of them) are answered per present term, others are evaluated only when a term they need is
    present. The automaton is rebuilt lazily, on the first match after subscriptions changed."""

    def __init__(self, engine: MatchEngine) -> None:
        self._engine = engine
        self._scanner = engine.new_scanner()
        # a one-term query is its target's record; any other query has a record of its own
        self._query_of: dict[Hashable, _Query | _Target] = {}  # subscription key → its query
        self._queries: dict[str, _Query | _Target] = {}  # canonical query key → query
        self._targets: dict[int, _Target] = {}

    def add(self, key: Hashable, query: str) -> None:
        """Raises QueryError (nothing changes) when the query cannot be understood."""
        compiled = self._engine.compile(query)
        if key in self._query_of:
            self.remove(key)
        qkey = compiled.key  # computed once: the record and the table share one string
        record = self._queries.get(qkey)
        if record is None:
            # registering terms makes the scanner rebuild lazily
            record = self._new_record(qkey, BoundQuery(compiled, self._scanner))
            self._queries[qkey] = record
        record.keys = (*record.keys, key)
        self._query_of[key] = record

    def remove(self, key: Hashable) -> None:
        record = self._query_of.pop(key, None)
        if record is None:
            return
        record.keys = tuple(k for k in record.keys if k != key)
        if record.keys:
            return
        del self._queries[record.qkey]
        bound = record.bound
        assert bound is not None  # a record with subscribers always has its query
        if isinstance(record, _Target):
            record.bound = None
            if record.empty():
                del self._targets[record.target]
        else:
            self._file(record, _detach)
        bound.release()

    def _new_record(self, qkey: str, bound: BoundQuery) -> _Query | _Target:
        """A one-term query becomes part of its target's record; any other is filed under its targets."""
        if bound.single is None:
            query = _Query(qkey, bound)
            self._file(query, _attach)
            return query
        record = self._targets.get(bound.single)
        if record is None:
            record = self._targets[bound.single] = _Target(bound.single)
        record.bound, record.qkey = bound, qkey
        return record

    def _file(self, record: _Query, change: _Change) -> None:
        """Attach a query of more than one term to (or detach it from) the targets that decide it."""
        bound = record.bound
        required = _guarded_form(bound)
        if required is not None:
            change(self._targets, required, "guarded", record)
            return
        for target in bound.trigger:
            change(self._targets, target, "boolean", record)

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
        targets, present = self._targets, view.present
        results: dict[Hashable, MatchResult] = {}
        candidates: dict[_Query, None] = {}
        for target in present:
            record = targets.get(target)
            if record is None:
                continue  # many present targets decide nothing alone
            keys = record.keys
            if keys:
                result = view.single(target)
                for key in keys:  # usually one: plain stores beat building a dict to merge
                    results[key] = result
            if record.guarded:
                _unblocked(record.guarded, present, view.single(target), results)
            if record.boolean:
                candidates.update(dict.fromkeys(record.boolean))
        for query in candidates:
            result = query.bound.result(view)
            if result.matched:
                for key in query.keys:
                    results[key] = result
        return results


def _unblocked(
    guarded: tuple[_Query, ...], present: Container[int], result: MatchResult, results: dict[Hashable, MatchResult]
) -> None:
    """The "A -B -C" queries of a present A none of whose excluded terms is present (usually all of them)."""
    for query in guarded:
        for excluded in query.bound.forbidden:
            if excluded in present:
                break
        else:
            for key in query.keys:
                results[key] = result


def _guarded_form(bound: BoundQuery) -> int | None:
    """The required target of a query of the form "A -B -C" (one required term)."""
    required = bound.required
    if required is None or len(required) != 1 or required[0] in bound.forbidden:
        return None
    return required[0]


def _attach(targets: dict[int, _Target], target: int, role: str, query: _Query) -> None:
    record = targets.get(target)
    if record is None:
        record = targets[target] = _Target(target)
    setattr(record, role, (*getattr(record, role), query))


def _detach(targets: dict[int, _Target], target: int, role: str, query: _Query) -> None:
    record = targets[target]
    setattr(record, role, tuple(q for q in getattr(record, role) if q is not query))
    if record.empty():
        del targets[target]
