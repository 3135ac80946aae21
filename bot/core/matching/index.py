"""All active subscriptions compiled into one scanner: the cost per article does not grow with them."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping

from bot.core.matching.bound import BoundQuery, term_target
from bot.core.matching.engine import ArticleView, CompiledQuery, MatchEngine, MatchResult
from bot.core.matching.query import Term
from bot.core.matching.scanner import Scanner

Keys = tuple[Hashable, ...]  # subscribers of one query: a tuple, replaced on change (a list costs 40 bytes more)


class _Query(BoundQuery):
    """One distinct query of more than one term, shared by every subscription to it: the compiled query
    itself with its key and subscribers (one object, not a record pointing at one)."""

    __slots__ = ("keys", "qkey")

    def __init__(self, qkey: str, compiled: CompiledQuery, scanner: Scanner) -> None:
        super().__init__(compiled, scanner)
        self.qkey = qkey
        self.keys: Keys = ()


class _Target:
    """A target that decides queries of more than one term: the "A -B -C" queries it is the A of, the
    boolean queries it triggers, and the subscribers of its one-term query. A target that decides only its
    one-term query (most of them) has no such record: the subscribers' tuple stands in for it. Tuples,
    replaced on change: reading them is the hot path, changing them the rare one. Terms that are only ever
    excluded (the B, C) have no record: they are looked at only when their A is present."""

    __slots__ = ("_guard", "boolean", "guarded", "keys")

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.guarded: tuple[_Query, ...] = ()
        self.boolean: tuple[_Query, ...] = ()
        self._guard: _Guard | None = None  # made from ``guarded`` on first use, dropped when they change

    def guard(self) -> _Guard:
        """The "A -B" queries of this A as two tables: every subscriber, and the subscribers each excluded
        term takes away. An article then costs one set intersection, not a loop over the queries."""
        if self._guard is None:
            subscribers: list[Hashable] = []
            blocked: dict[int, list[Hashable]] = {}
            for query in self.guarded:
                subscribers += query.keys
                for excluded in query.forbidden:
                    blocked.setdefault(excluded, []).extend(query.keys)
            self._guard = (tuple(subscribers), {t: tuple(keys) for t, keys in blocked.items()})
        return self._guard

    def forget_guard(self) -> None:
        self._guard = None


_Guard = tuple[Keys, dict[int, Keys]]  # every subscriber of the "A -B" queries; excluded term → its subscribers


# _attach or _detach: (targets, target, role, query)
_Change = Callable[[dict[int, "Keys | _Target"], int, str, _Query], None]


class SubscriptionIndex:
    """Subscriptions by key (e.g. subscription id). Identical queries are compiled once; one-term queries
    (most of them) are answered per present term, others are evaluated only when a term they need is
    present. The automaton is rebuilt lazily, on the first match after subscriptions changed.

    A one-term query keeps no record of its own (100k of them must fit in little memory): its canonical
    key maps to its target id, and the target's entry holds its subscribers."""

    def __init__(self, engine: MatchEngine) -> None:
        self._engine = engine
        self._scanner = engine.new_scanner()
        self._query_of: dict[Hashable, str] = {}  # subscription key → canonical key of its query
        self._queries: dict[str, int | _Query] = {}  # canonical key → target of a one-term query, or record
        self._targets: dict[int, Keys | _Target] = {}

    def add(self, key: Hashable, query: str) -> None:
        """Raises QueryError (nothing changes) when the query cannot be understood."""
        compiled = self._engine.compile(query)
        if key in self._query_of:
            self.remove(key)
        qkey = compiled.key  # computed once: the tables share one string
        record = self._queries.get(qkey)
        if record is None:
            record = self._new_record(qkey, compiled)  # registering terms makes the scanner rebuild lazily
            self._queries[qkey] = record
        if isinstance(record, _Query):
            record.keys = (*record.keys, key)
            self._keys_changed(record)
        else:
            self._set_keys(record, (*self._keys_of(record), key))
        self._query_of[key] = qkey

    def remove(self, key: Hashable) -> None:
        qkey = self._query_of.pop(key, None)
        if qkey is None:
            return
        record = self._queries[qkey]
        if isinstance(record, _Query):
            record.keys = tuple(k for k in record.keys if k != key)
            self._keys_changed(record)
            if not record.keys:
                del self._queries[qkey]
                self._file(record, _detach)
                record.release()
            return
        kept = tuple(k for k in self._keys_of(record) if k != key)
        self._set_keys(record, kept)
        if not kept:
            del self._queries[qkey]
            self._scanner.release_term(record)  # a free-text term was registered by its query

    def _new_record(self, qkey: str, compiled: CompiledQuery) -> int | _Query:
        """A one-term query is its target id; any other is a record filed under the targets that decide it."""
        if isinstance(compiled.node, Term):
            # the canonical key of a one-term query is its term's key, the one the scanner registers it by
            return term_target(compiled.atoms[compiled.node], self._scanner)
        query = _Query(qkey, compiled, self._scanner)
        self._file(query, _attach)
        return query

    def _keys_of(self, target: int) -> Keys:
        entry = self._targets.get(target, ())
        return entry.keys if isinstance(entry, _Target) else entry

    def _set_keys(self, target: int, keys: Keys) -> None:
        entry = self._targets.get(target)
        if isinstance(entry, _Target):
            entry.keys = keys
            _settle(self._targets, target, entry)
        elif keys:
            self._targets[target] = keys
        else:
            self._targets.pop(target, None)

    def _keys_changed(self, record: _Query) -> None:
        """An "A -B" query's subscribers are in its A's guard tables: they are made again on next use."""
        required = _guarded_form(record)
        if required is not None:
            entry = self._targets[required]
            assert isinstance(entry, _Target)  # a target a query is filed under has a record
            entry.forget_guard()

    def _file(self, record: _Query, change: _Change) -> None:
        """Attach a query of more than one term to (or detach it from) the targets that decide it."""
        required = _guarded_form(record)
        if required is not None:
            change(self._targets, required, "guarded", record)
            return
        for target in record.trigger:
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
            entry = targets.get(target)
            if entry is None:
                continue  # many present targets decide nothing alone
            if type(entry) is tuple:  # the subscribers of its one-term query, the most common entry
                result = view.single(target)
                for key in entry:  # usually one: plain stores beat building a dict to merge
                    results[key] = result
                continue
            keys = entry.keys
            if keys:
                result = view.single(target)
                for key in keys:
                    results[key] = result
            if entry.guarded:
                _unblocked(entry.guard(), present, view.single(target), results)
            if entry.boolean:
                for query in entry.boolean:
                    candidates[query] = None
        for query in candidates:
            result = query.result(view)
            if result.matched:
                for key in query.keys:
                    results[key] = result
        return results


def _unblocked(
    guard: _Guard, present: Mapping[int, object], result: MatchResult, results: dict[Hashable, MatchResult]
) -> None:
    """The subscribers of a present A's "A -B -C" queries none of whose excluded terms is present (usually
    all of them): all of them at once, then the few an excluded term present in the article takes away (a
    subscriber has one query, so nothing else put it there)."""
    subscribers, blocked = guard
    results.update(dict.fromkeys(subscribers, result))
    for excluded in blocked.keys() & present.keys():
        for key in blocked[excluded]:
            results.pop(key, None)


def _guarded_form(bound: BoundQuery) -> int | None:
    """The required target of a query of the form "A -B -C" (one required term)."""
    required = bound.required
    if required is None or len(required) != 1 or required[0] in bound.forbidden:
        return None
    return required[0]


def _attach(targets: dict[int, Keys | _Target], target: int, role: str, query: _Query) -> None:
    entry = targets.get(target, ())
    if not isinstance(entry, _Target):  # its one-term query's subscribers (or none) move into a record
        entry = targets[target] = _Target(entry)
    setattr(entry, role, (*getattr(entry, role), query))
    entry.forget_guard()


def _detach(targets: dict[int, Keys | _Target], target: int, role: str, query: _Query) -> None:
    entry = targets[target]
    assert isinstance(entry, _Target)  # a target a query is filed under has a record
    setattr(entry, role, tuple(q for q in getattr(entry, role) if q is not query))
    entry.forget_guard()
    _settle(targets, target, entry)


def _settle(targets: dict[int, Keys | _Target], target: int, entry: _Target) -> None:
    """A record that no longer decides a query of more than one term goes back to its subscribers' tuple
    (or away): the compact form is what the index keeps for most targets."""
    if entry.guarded or entry.boolean:
        return
    if entry.keys:
        targets[target] = entry.keys
    else:
        del targets[target]
