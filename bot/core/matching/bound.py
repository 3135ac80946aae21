"""A compiled query attached to one scanner: its terms as target ids, and how it is decided from the
targets an article is about. Split from engine.py (the public face) so that each module keeps one job."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.core.matching.presence import Found
from bot.core.matching.query import And, Node, Not, Or, Term, positive_terms
from bot.core.matching.results import NO_MATCH, MatchResult
from bot.core.matching.scanner import Scanner
from bot.core.matching.terms import Atom

if TYPE_CHECKING:
    from bot.core.matching.engine import ArticleView, CompiledQuery


def term_target(atom: Atom, scanner: Scanner) -> int:
    """The target id of a resolved term; a free-text term is registered (reference-counted: whoever calls
    this for one releases it with ``scanner.release_term(target)``)."""
    if atom.entry_id is not None:
        return scanner.entry_index[atom.entry_id]
    return scanner.add_term(atom.key, atom.forms, atom.label, atom.weak, atom.context)


Presence = Callable[[dict[int, Found]], bool]  # reads membership only: marks or RawHits alike


class BoundQuery:
    """A compiled query attached to one scanner (free-text terms registered there). Slotted and small: 100k
    of these live in a subscription index. A one-term query (most of them) is answered per present target;
    a plain AND of terms and negated terms ("A AND B -C") by membership tests on two tuples; only other
    shapes keep a closure over target ids."""

    __slots__ = ("_check", "_registered", "forbidden", "positive", "required", "scanner", "single", "trigger")

    def __init__(self, compiled: CompiledQuery, scanner: Scanner) -> None:
        self.scanner = scanner
        targets: dict[Term, int] = {}
        registered: list[int] = []
        for term, atom in compiled.atoms.items():
            targets[term] = term_target(atom, scanner)
            if atom.entry_id is None:
                registered.append(targets[term])
        # the scanner's own target ints, not the terms' keys: a key string per query and term was 60 bytes
        self._registered: tuple[int, ...] = tuple(registered)
        self.positive = tuple(sorted({targets[t] for t in positive_terms(compiled.node)}))
        node = compiled.node
        self.single = self.positive[0] if isinstance(node, Term) else None
        self.trigger: tuple[int, ...] = ()
        self._check: Presence | None = None
        self.required: tuple[int, ...] | None = None
        self.forbidden: tuple[int, ...] = ()
        if self.single is not None:  # answered per present target: no trigger, closure or conjunction
            return
        conjunction = _conjunction(node, targets)
        if conjunction is not None:
            self.required, self.forbidden = (self._shared(tuple(sorted(part))) for part in conjunction)
        else:
            self._check = _checker(node, targets)
        # a query that is false when nothing is present needs one of these targets to be true
        self.trigger = self._shared(tuple(sorted(_necessary(node, targets, scanner.rarity) or self.positive)))

    def _shared(self, targets: tuple[int, ...]) -> tuple[int, ...]:
        """An equal tuple this query already holds, else ``targets``: in "A -B" the positive, required and
        trigger targets are all (A,), and 100k queries make the copies count."""
        if targets == self.positive:
            return self.positive
        if targets == self.required:
            return self.required  # type: ignore[return-value]  # equal to a tuple, so a tuple
        return targets

    @property
    def conjunction(self) -> tuple[frozenset[int], frozenset[int]] | None:
        """(required, forbidden) targets of a plain AND of terms and negated terms, else None."""
        return None if self.required is None else (frozenset(self.required), frozenset(self.forbidden))

    def release(self) -> None:
        for target in self._registered:
            self.scanner.release_term(target)
        self._registered = ()

    def result(self, view: ArticleView) -> MatchResult:
        if self.single is not None:  # most subscriptions: one name or keyword
            return view.single(self.single)
        present = view.present
        if self.required is not None:  # "A AND B -C": membership tests instead of a closure tree
            for target in self.required:
                if target not in present:
                    return NO_MATCH
            for target in self.forbidden:
                if target in present:
                    return NO_MATCH
        elif self._check is None or not self._check(present):
            return NO_MATCH
        return view.combined(self.positive)


def _checker(node: Node, targets: dict[Term, int]) -> Presence:
    if isinstance(node, Term):
        target = targets[node]
        return lambda present: target in present
    if isinstance(node, Not):
        inner = _checker(node.child, targets)
        return lambda present: not inner(present)
    parts = tuple(_checker(c, targets) for c in node.children)
    if isinstance(node, And):
        return lambda present: all(part(present) for part in parts)
    return lambda present: any(part(present) for part in parts)


def _conjunction(node: Node, targets: dict[Term, int]) -> tuple[frozenset[int], frozenset[int]] | None:
    """(required, forbidden) targets when the query is a plain AND of terms and negated terms."""
    parts = node.children if isinstance(node, And) else (node,)
    required: set[int] = set()
    forbidden: set[int] = set()
    for part in parts:
        if isinstance(part, Term):
            required.add(targets[part])
        elif isinstance(part, Not) and isinstance(part.child, Term):
            forbidden.add(targets[part.child])
        else:
            return None
    return frozenset(required), frozenset(forbidden)


def _necessary(node: Node, targets: dict[Term, int], rarity: Callable[[int], int]) -> frozenset[int] | None:
    """A small set of targets one of which must be present for the query to hold (None: not known).
    Of the parts of an AND the rarest is chosen, so the query is evaluated for few articles."""
    if isinstance(node, Term):
        return frozenset({targets[node]})
    if isinstance(node, Not):
        return None
    found = [_necessary(c, targets, rarity) for c in node.children]
    if isinstance(node, Or):
        return None if any(f is None for f in found) else frozenset().union(*found)
    known = [f for f in found if f is not None]
    return max(known, key=lambda f: (min(rarity(t) for t in f), -len(f))) if known else None
