"""ROUGE of summary bullets against a reference summary, and of the equal-length lead baseline.

ROUGE-1/2/L F-measure with Porter stemming, computed by the ``rouge-score`` package (Google's reimplementation
of ROUGE-1.5.5). The lead baseline is the article's body from its start, cut at the last word boundary
within the character length of the product's bullets (joined by spaces) for that article: the classic
news baseline given the same space.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

MEASURES = ("rouge1", "rouge2", "rougeL")


@dataclass(frozen=True, slots=True)
class RougeScores:
    product: dict[str, float]
    lead: dict[str, float]


@cache
def _scorer() -> Any:
    from rouge_score import rouge_scorer  # loads nltk's stemmer: imported only by this command

    logging.getLogger("absl").setLevel(logging.WARNING)  # "Using default tokenizer" on every run
    return rouge_scorer.RougeScorer(list(MEASURES), use_stemmer=True)


def lead_of_length(body: str, length: int) -> str:
    """The body's beginning, at most ``length`` characters, cut at the last word boundary."""
    flat = " ".join(body.split())
    if len(flat) <= length:
        return flat
    cut = flat[: length + 1]
    space = cut.rfind(" ")
    return cut[:space] if space > 0 else ""


def score(bullets: list[str], body: str, reference: str) -> RougeScores:
    joined = " ".join(bullets)
    lead = lead_of_length(body, len(joined))
    scorer = _scorer()
    product = {m: s.fmeasure for m, s in scorer.score(reference, joined).items()}
    baseline = {m: s.fmeasure for m, s in scorer.score(reference, lead).items()}
    return RougeScores(product, baseline)


def summary_line(results: Iterable[RougeScores]) -> str:
    """``rouge1=… rouge2=… rougeL=… lead_rouge1=… lead_rouge2=… lead_rougeL=… n=…`` (means)."""
    scores = list(results)
    n = len(scores)

    def mean(values: Iterable[float]) -> float:
        return sum(values) / n if n else 0.0

    own = " ".join(f"{m}={mean(s.product[m] for s in scores):.3f}" for m in MEASURES)
    lead = " ".join(f"lead_{m}={mean(s.lead[m] for s in scores):.3f}" for m in MEASURES)
    return f"{own} {lead} n={n}"
