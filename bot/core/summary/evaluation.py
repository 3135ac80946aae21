"""Scoring summary bullets against expected facts (the ``summary-eval`` format of shared/eval/README.md).

A fact is a list of alternative phrasings; it is covered when any of them appears (case-insensitive) in the
bullets. Coverage is averaged over cases; ``lead3`` scores the article's first sentences the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.ingest.seed import parse_seed_text
from bot.core.summary.summarizer import Focus, lead_bullets, summarize


class CaseError(ValueError):
    """A case that does not follow the format; the message names the problem."""


@dataclass(frozen=True, slots=True)
class EvalCase:
    id: str
    lang: str | None
    title: str | None
    text: str
    focus: str | None
    focus_terms: tuple[str, ...]
    facts: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: EvalCase
    bullets: tuple[str, ...]
    covered: tuple[bool, ...]  # one per fact
    lead_covered: tuple[bool, ...]
    focus_named: bool | None  # None when the case has no focus

    @property
    def coverage(self) -> float:
        return _share(self.covered)

    @property
    def lead_coverage(self) -> float:
        return _share(self.lead_covered)


@dataclass(frozen=True, slots=True)
class EvalReport:
    results: tuple[CaseResult, ...]

    @property
    def coverage(self) -> float:
        return _mean([r.coverage for r in self.results])

    @property
    def lead3(self) -> float:
        return _mean([r.lead_coverage for r in self.results])

    @property
    def focus(self) -> float:
        """Share of focused cases whose first bullet names the focus (1.0 when no case has a focus)."""
        named = [r.focus_named for r in self.results if r.focus_named is not None]
        return _share(named) if named else 1.0

    def summary_line(self) -> str:
        return f"coverage={self.coverage:.3f} lead3={self.lead3:.3f} focus={self.focus:.3f} n={len(self.results)}"


def parse_case(data: Any) -> EvalCase:
    """One JSON object of the eval file as an :class:`EvalCase`; :class:`CaseError` says what is wrong."""
    if not isinstance(data, Mapping):
        raise CaseError("a case must be a JSON object")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise CaseError("'text' must be a non-empty string")
    facts = data.get("facts")
    if not isinstance(facts, list) or not all(_strings(f) and f for f in facts):
        raise CaseError("'facts' must be a list of non-empty lists of strings")
    focus_terms = data.get("focus_terms") or []
    if not _strings(focus_terms):
        raise CaseError("'focus_terms' must be a list of strings")
    return EvalCase(
        id=str(data.get("id", "?")),
        lang=_optional_str(data, "lang"),
        title=_optional_str(data, "title"),
        text=text,
        focus=_optional_str(data, "focus"),
        focus_terms=tuple(focus_terms),
        facts=tuple(tuple(f) for f in facts),
    )


def evaluate_case(
    case: EvalCase,
    focus_for: Callable[[str], Focus],
    *,
    max_bullets: int = 3,
    max_chars: int = 200,
) -> CaseResult:
    """Summarise the case's article (date header removed) and score it and the lead baseline."""
    body = parse_seed_text(case.text).body
    focus = focus_for(case.focus) if case.focus else None
    bullets = summarize(
        body, lang=case.lang, title=case.title, focus=focus, max_bullets=max_bullets, max_chars=max_chars
    )
    lead = lead_bullets(body, lang=case.lang, count=max_bullets, max_chars=max_chars)
    focus_named = None
    if case.focus:
        first = bullets[0].casefold() if bullets else ""
        focus_named = any(term.casefold() in first for term in case.focus_terms)
    return CaseResult(case, tuple(bullets), covered(bullets, case.facts), covered(lead, case.facts), focus_named)


def covered(bullets: list[str], facts: tuple[tuple[str, ...], ...]) -> tuple[bool, ...]:
    joined = "\n".join(bullets).casefold()
    return tuple(any(alt.casefold() in joined for alt in fact) for fact in facts)


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise CaseError(f"'{key}' must be a string or null")
    return value or None


def _share(flags: tuple[bool, ...] | list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 1.0


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
