"""What a scan means: which targets an article is about, weak names settled by their support.

Split from the scanner (which finds the hits) so that each module keeps one job.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple

from bot.core.matching.normalize import NormalText

CONTEXT_WINDOW = 200  # characters around an ambiguous translation ("shells") where its context must be


class Role(IntEnum):
    STRONG = 0  # unambiguous name of the target
    WEAK = 1  # ambiguous name, needs support from the rest of the text
    CONTEXT = 2  # supports weak names of the target
    NEGATIVE = 3  # a longer expression that means something else ("Kim Kardashian")


class RawHit(NamedTuple):  # a tuple: tens of them are made per article
    target: int
    role: Role
    start: int  # source offsets
    end: int
    surface: str
    via: str = ""  # "" for a name or the term as typed, else how the surface relates to it

    def overlaps(self, other: RawHit) -> bool:
        return self.start < other.end and other.start < self.end


# A plain strong whole-word hit as the scan loop records it: (begin, last) in padded offsets. Most hits
# only tell that their target is present; the RawHit (source offsets, surface) is made for the few targets
# whose hits are read (an explanation, the weak-name and negative tests) by Scan.built.
Mark = tuple[int, int]
Found = list[RawHit | Mark]


class Scan(NamedTuple):
    strong: dict[int, Found]  # Role.STRONG hits (most of them) by target, each list in text order
    others: list[RawHit]  # weak names, context and negatives, in text order
    lang: str | None  # the article's language when it was given or had to be guessed
    # vocabulary context words, once per occurrence (not once per term using them): (start, end, spelling)
    context: tuple[tuple[int, int, str], ...] | list[tuple[int, int, str]] = ()
    normal: NormalText | None = None  # the scanned text, to make RawHits of marks (None: there are none)

    @property
    def hits(self) -> list[RawHit]:
        return [hit for target, found in self.strong.items() for hit in self.built(target, found)] + self.others

    def strong_spans(self) -> list[tuple[int, int, int, Role]]:
        """(start, end, target, role) of every strong hit, in source offsets: what the shadowing test of a
        weak name compares, without making a RawHit (and its surface) of every mark."""
        normal = self.normal
        aligned = normal is None or normal.aligned
        spans: list[tuple[int, int, int, Role]] = []
        for target, found in self.strong.items():
            for hit in found:
                if type(hit) is tuple:  # a mark (padded offsets, which aligned text shares with the source)
                    begin, last = hit
                    start, end = (begin, last) if aligned else normal.source_span(begin, last)  # type: ignore[union-attr]
                    spans.append((start, end, target, Role.STRONG))
                else:
                    spans.append((hit.start, hit.end, target, hit.role))  # type: ignore[union-attr]
        return spans

    def built(self, target: int, found: Found) -> list[RawHit]:
        """``found`` (hits of ``target``) with every mark made into a RawHit, in the same order."""
        normal = self.normal
        if normal is None:
            return found  # type: ignore[return-value]  # no marks without a text
        hits: list[RawHit] = []
        source, aligned, new = normal.source, normal.aligned, tuple.__new__  # no RawHit._make frame per hit
        for hit in found:
            if type(hit) is tuple:  # a mark: a RawHit's type is RawHit
                begin, last = hit
                start, end = (begin, last) if aligned else normal.source_span(begin, last)
                hit = new(RawHit, (target, Role.STRONG, start, end, source[start:end], ""))
            hits.append(hit)  # type: ignore[arg-type]
        return hits


@dataclass(frozen=True, slots=True)
class Tables:
    """The scanner's registrations that interpretation reads (shared, not copied)."""

    is_entry: Callable[[int], bool]
    entry_context: dict[int, frozenset[int]]  # lexicon entry → entries whose presence supports its weak names
    term_context: dict[int, frozenset[str]]  # free term → spellings of its context words


def _supported(
    hit: RawHit,
    context: Iterable[RawHit],
    words: Iterable[tuple[int, int, str]],
    spellings: frozenset[str],
    tables: Tables,
) -> bool:
    """A lexicon entry's context words count anywhere in the text; a vocabulary sense's only nearby
    (an article can mention artillery far from where it says "shells" of another kind). ``spellings``: those
    of ``words``, so that a sense none of whose context words occurs at all (most) costs one set test."""
    if tables.is_entry(hit.target):
        return any(True for _ in context)
    own = tables.term_context.get(hit.target, frozenset())
    if own.isdisjoint(spellings):
        return False
    return any(
        spelling in own and start - CONTEXT_WINDOW <= hit.start <= end + CONTEXT_WINDOW
        for start, end, spelling in words
    )

def present(scan: Scan, tables: Tables, relaxed: bool = False, keep_nested: bool = False) -> dict[int, Found]:
    """Targets the text is about, with their hits. Weak names count only with support in the text
    (or always when ``relaxed``, e.g. a sentence of an article that already matched). ``keep_nested``
    leaves hits inside a longer hit of the same target in (they never decide presence; an explanation
    drops them with :func:`outermost` for the few targets it shows) and leaves marks unbuilt (the reader
    builds the few it reads with :meth:`Scan.built`); without it every hit is a RawHit."""
    strong = scan.strong
    negatives: list[RawHit] = []
    if scan.others:
        strong = dict(strong)  # weak names join it: the scan stays as it was
        negatives = _settle_others(scan, tables, relaxed, strong)
    if negatives:
        strong = _unvetoed(scan, strong, negatives)
    if keep_nested:
        return strong
    built = scan.built
    return {t: outermost(built(t, found)) if len(found) > 1 else built(t, found) for t, found in strong.items()}


def _unvetoed(scan: Scan, strong: dict[int, Found], negatives: list[RawHit]) -> dict[int, Found]:
    """``strong`` without the hits the negatives veto; a target none of whose hits is left drops out. Only
    targets with a negative of their own can lose hits: only their marks are built."""
    vetoing = {n.target for n in negatives}
    kept: dict[int, Found] = {}
    for target, found in strong.items():
        if target in vetoing:
            found = [h for h in scan.built(target, found) if not _vetoed(h, negatives)]  # type: ignore[misc]
        if found:
            kept[target] = found
    return kept


def _settle_others(scan: Scan, tables: Tables, relaxed: bool, strong: dict[int, Found]) -> list[RawHit]:
    """Adds the weak names that have support to ``strong``; returns the negatives."""
    weak: list[RawHit] = []
    context: dict[int, list[RawHit]] = defaultdict(list)
    negatives: list[RawHit] = []
    for hit in scan.others:
        role = hit.role
        if role is Role.CONTEXT:
            context[hit.target].append(hit)
        elif role is Role.WEAK:
            weak.append(hit)
        else:
            negatives.append(hit)
    rivals: list[tuple[int, int, int, Role]] | None = None
    spellings = frozenset(spelling for _, _, spelling in scan.context) if weak else frozenset()
    for hit in weak:
        # the cheap tests of support first; the shadowing test compares the hit with every name hit
        supported = (
            relaxed
            or hit.target in strong
            or any(c in strong for c in tables.entry_context.get(hit.target, ()))
            or _supported(hit, context.get(hit.target, ()), scan.context, spellings, tables)
        )
        if not supported:
            continue
        if rivals is None:  # context words never shadow a name: only the other hits need comparing
            rivals = scan.strong_spans()
            rivals += [(h.start, h.end, h.target, h.role) for h in scan.others if h.role is not Role.CONTEXT]
        if not _shadowed(hit, rivals):  # a new list: the scan's own lists stay as they were
            strong[hit.target] = [*strong.get(hit.target, ()), hit]
    return negatives


def outermost(hits: Iterable[RawHit]) -> list[RawHit]:
    """Drop hits inside a longer hit of the same target ("Putins" inside "Wladimir Putins")."""
    ordered = sorted(hits, key=lambda h: (h.start, -h.end))
    kept: list[RawHit] = []
    for hit in ordered:
        if kept and hit.end <= kept[-1].end:
            continue
        kept.append(hit)
    return kept


def _vetoed(hit: RawHit, negatives: list[RawHit]) -> bool:
    """A name inside a longer expression the lexicon marks as something else ("Paris Hilton")."""
    return any(n.target == hit.target and n.overlaps(hit) and n.end - n.start > hit.end - hit.start for n in negatives)


def _shadowed(hit: RawHit, rivals: list[tuple[int, int, int, Role]]) -> bool:
    """A weak name inside a longer expression of something else ("Kim" in "Kim Kardashian"). ``rivals``:
    (start, end, target, role) of every name hit; plain tuples, compared cheapest test first."""
    start, end, target = hit.start, hit.end, hit.target
    length = end - start
    for other_start, other_end, other_target, role in rivals:
        # longer than the hit (so never the hit itself), overlapping it, and another target or a negative
        overlaps = other_start < end and start < other_end and other_end - other_start > length
        if overlaps and (other_target != target or role is Role.NEGATIVE):
            return True
    return False
