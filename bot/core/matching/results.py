"""What matching answers: whether a query matched an article, and the hits that explain it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

VIA_ALIAS = "lexicon alias"


@dataclass(slots=True, unsafe_hash=True)  # built per imported article: not frozen (see bot.core.models)
class Hit:
    term: str
    surface: str
    start: int
    end: int
    via: str = ""  # "translation", "compound part", "lexicon alias"; "" for the term as typed

    @property
    def path(self) -> str:
        """How the surface relates to the term, for explanations ("as typed" when it is the term itself)."""
        return self.via or "as typed"


class MatchResult:
    """Whether a query matched, and the hits that explain it. The hits are built on first use (``source``):
    an article matches several subscriptions whose explanation nobody may read (a count, a benchmark)."""

    __slots__ = ("_hits", "_reason", "_source", "matched")

    def __init__(
        self, matched: bool, hits: tuple[Hit, ...] = (), source: Callable[[], tuple[Hit, ...]] | None = None
    ) -> None:
        self.matched = matched
        self._hits = hits
        self._source = source
        self._reason: str | None = None

    @property
    def hits(self) -> tuple[Hit, ...]:
        if self._source is not None:
            self._hits, self._source = self._source(), None
        return self._hits

    def __repr__(self) -> str:
        return f"MatchResult(matched={self.matched}, hits={self.hits!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MatchResult):
            return NotImplemented
        return self.matched == other.matched and self.hits == other.hits

    def __hash__(self) -> int:
        return hash((self.matched, self.hits))

    def reason(self, label: Callable[[str], str] | None = None) -> str:
        """Short explanation: ``Wladimir Putin (Kremlchef, Putins)``; a translated or compound surface says
        so: ``Munition (Munitionsfabrik: compound part, ammunition: translation)``. ``label`` translates
        those path words (default English); several terms are joined with '; '.

        The English text is kept: every chat following the same query shares this result, and the pipeline
        writes one outbox row per chat, so it is built once per article and query, not once per chat."""
        if label is None:
            if self._reason is None:
                self._reason = self._explain(None)
            return self._reason
        return self._explain(label)

    def _explain(self, label: Callable[[str], str] | None) -> str:
        if not self.matched:
            return "no match"
        surfaces: dict[str, list[str]] = {}
        for hit in self.hits:
            shown = hit.surface
            if hit.via and hit.via != VIA_ALIAS:  # a lexicon name explains itself, as before
                shown = f"{hit.surface}: {label(hit.via) if label else hit.via}"
            seen = surfaces.setdefault(hit.term, [])
            if shown not in seen:
                seen.append(shown)
        return "; ".join(f"{term} ({', '.join(forms)})" for term, forms in surfaces.items())


NO_MATCH = MatchResult(False)
