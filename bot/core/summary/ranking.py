"""Extractive ranking: position, centrality, specificity, and redundancy control (maximal marginal relevance)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from bot.core.summary.text import stems, word_set, words

Vector = dict[str, float]

# Weights of the sentence score; position dominates because news puts the essentials first, paragraph
# openers carry each paragraph's point, centrality finds what the whole article is about.
_W_POSITION = 0.25
_W_PARAGRAPH_LEAD = 0.15
_W_CENTRALITY = 0.25
_W_TITLE = 0.10
_W_SPECIFIC = 0.15
_W_LENGTH = 0.10
_FOCUS_BONUS = 0.15
_PREFERRED_BONUS = 1.0  # above any score difference: preferred sentences are taken first
_REDUNDANCY = 0.6  # weight of the similarity to bullets already chosen
_DUPLICATE = 0.5  # at or above this similarity a sentence repeats a chosen one
_TITLE_ECHO = 0.8  # a sentence this close to the title tells the reader nothing new

_QUOTED = re.compile(r'„[^“”"]*[“”"]|“[^”]*”|"[^"]*"|»[^«]*«|«[^»]*»')
_MOSTLY_QUOTED = 0.5
_ANAPHORIC = word_set(
    """
    er sie es dies diese dieser dieses dabei damit dazu daher deshalb aber doch so auch zudem außerdem
    he she it they this that these those but and also so then however
    """
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence that may become a bullet, with where it stands in the article."""

    text: str
    order: int  # index among candidates, in document order
    paragraph: int
    paragraph_position: int  # 0 for a paragraph's first sentence
    source: str = ""  # the sentence as written, for the focus test (``text`` may lose a dateline)
    specificity: float = 0.0
    stem_counts: Counter[str] = field(default_factory=Counter, compare=False)


def make_candidate(text: str, order: int, paragraph: int, position: int, source: str, lang: str) -> Candidate:
    return Candidate(text, order, paragraph, position, source or text, _specificity(text, lang), Counter(stems(text)))


def select(
    candidates: Sequence[Candidate],
    *,
    count: int,
    max_chars: int,
    title: str | None = None,
    focus: Callable[[str], bool] | None = None,
    preferred: Collection[int] = (),
) -> list[Candidate]:
    """Up to ``count`` candidates; a focused one first when there is one, the rest in document order.

    ``preferred`` candidates (by index) are taken first unless redundant: the caller knows they summarise
    the article.
    """
    if not candidates or count < 1:
        return []
    vectors = _tfidf_vectors(candidates, title)
    title_vector = vectors.pop() if title else {}
    focused = {i for i, c in enumerate(candidates) if focus is not None and focus(c.source)}
    centralities = _centralities(candidates)
    guides = _guide_similarities(candidates, vectors, title_vector)
    scores = [
        _score(c, centralities[i], guides[i], max_chars)
        + (_FOCUS_BONUS if i in focused else 0.0)
        + (_PREFERRED_BONUS if i in preferred else 0.0)
        for i, c in enumerate(candidates)
    ]
    chosen: list[int] = []
    if focused:
        chosen.append(max(focused, key=lambda i: scores[i]))
    while len(chosen) < min(count, len(candidates)):
        best = _next_best(candidates, vectors, scores, chosen, title_vector)
        if best is None:
            break
        chosen.append(best)
    pinned = 1 if focused else 0
    return [candidates[i] for i in chosen[:pinned] + sorted(chosen[pinned:])]


def _next_best(
    candidates: Sequence[Candidate],
    vectors: list[Vector],
    scores: list[float],
    chosen: list[int],
    title_vector: Vector,
) -> int | None:
    best, best_value = None, -math.inf
    for i in range(len(candidates)):
        if i in chosen:
            continue
        overlap = max((_cosine(vectors[i], vectors[j]) for j in chosen), default=0.0)
        if overlap >= _DUPLICATE or (title_vector and _cosine(vectors[i], title_vector) >= _TITLE_ECHO):
            continue
        value = scores[i] - _REDUNDANCY * overlap
        if value > best_value:
            best, best_value = i, value
    return best


def _score(c: Candidate, centrality: float, guide: float, max_chars: int) -> float:
    position = 1.0 / math.sqrt(1.0 + c.order)
    lead = 1.0 if c.paragraph_position == 0 else 0.0
    length = min(len(c.text), max_chars) / max_chars
    score = (
        _W_POSITION * position
        + _W_PARAGRAPH_LEAD * lead
        + _W_CENTRALITY * centrality
        + _W_TITLE * guide
        + _W_SPECIFIC * c.specificity
        + _W_LENGTH * length
    )
    return score - _penalty(c.text)


def _centralities(candidates: Sequence[Candidate]) -> list[float]:
    """Term-frequency cosine with the rest of the article, relative to the article's most central sentence.

    No IDF here: inside one article the words repeated across sentences are its topic, not noise.
    """
    vectors = [{t: float(n) for t, n in c.stem_counts.items()} for c in candidates]
    total: Counter[str] = Counter()
    for vector in vectors:
        total.update(vector)
    total_norm2 = sum(v * v for v in total.values())
    values = [_centrality(vector, total, total_norm2) for vector in vectors]
    top = max(values) or 1.0
    return [v / top for v in values]


def _guide_similarities(candidates: Sequence[Candidate], vectors: list[Vector], title: Vector) -> list[float]:
    """Similarity to the title; without one, to the opening paragraph (the teaser states what matters),
    each opening sentence compared with the rest of that paragraph."""
    if title:
        return [_cosine(v, title) for v in vectors]
    opening = [i for i, c in enumerate(candidates) if c.paragraph == 0]
    if len(opening) == len(candidates):
        return [0.0] * len(candidates)
    result = []
    for i, vector in enumerate(vectors):
        guide: Counter[str] = Counter()
        for j in opening:
            if j != i:
                guide.update(vectors[j])
        result.append(_cosine(vector, dict(guide)))
    return result


def _centrality(vector: Vector, total: Vector, total_norm2: float) -> float:
    """Cosine between the sentence and the rest of the article (the sum of all the other sentences)."""
    own = sum(v * v for v in vector.values())
    dot_total = sum(value * total.get(term, 0.0) for term, value in vector.items())
    dot_rest = dot_total - own
    rest_norm2 = total_norm2 - 2.0 * dot_total + own
    if own <= 0.0 or rest_norm2 <= 1e-12:
        return 0.0
    return max(0.0, dot_rest / math.sqrt(own * rest_norm2))


def _specificity(text: str, lang: str) -> float:
    """Names and numbers carry the facts a reader needs (who, how many, when).

    German capitalises every noun, so there a name is a run of capitalised words, an acronym or a
    hyphenated proper form ("Kim Jong-Un", "US-Bürger"); English capitalises names alone.
    """
    tokens = words(text)
    facts = 0
    for k, word in enumerate(tokens):
        if (
            any(ch.isdigit() for ch in word)
            or (len(word) > 1 and word.isupper())
            or (k > 0 and word[0].isupper() and (lang != "de" or _in_name(tokens, k)))
        ):
            facts += 1
    return min(1.0, facts / 5.0)


def _in_name(tokens: list[str], k: int) -> bool:
    """A capitalised German word next to another capitalised one (not the sentence's first), or a
    hyphenated form with a capital after the hyphen."""
    before = k - 1 > 0 and tokens[k - 1][0].isupper()
    after = k + 1 < len(tokens) and tokens[k + 1][0].isupper()
    parts = tokens[k].split("-")
    return before or after or (len(parts) > 1 and parts[1][:1].isupper())


def _penalty(text: str) -> float:
    tokens = words(text)
    penalty = 0.0
    if text.rstrip("\"'”“’»«").endswith("?"):
        penalty += 0.3  # a question informs less than a statement
    if tokens and tokens[0].casefold() in _ANAPHORIC:
        penalty += 0.08  # leans on the previous sentence
    if len(tokens) < 8:
        penalty += 0.12
    if _quoted_share(text) > _MOSTLY_QUOTED:
        penalty += 0.15  # a quotation colours the story; the reporter's sentences carry its facts
    return penalty


def _quoted_share(text: str) -> float:
    quoted = sum(len(m.group(0)) for m in _QUOTED.finditer(text))
    return quoted / len(text) if text else 0.0


def _tfidf_vectors(candidates: Sequence[Candidate], title: str | None) -> list[Vector]:
    """One TF-IDF vector per candidate (and one for the title, last), IDF over the article's sentences."""
    documents = [c.stem_counts for c in candidates]
    if title:
        documents = [*documents, Counter(stems(title))]
    frequency: Counter[str] = Counter()
    for counts in documents:
        frequency.update(counts.keys())
    total = len(documents)
    return [{term: float(tf) * _idf(total, frequency[term]) for term, tf in counts.items()} for counts in documents]


def similarity(a: Candidate, b: Candidate) -> float:
    """Word-overlap cosine of two sentences (term frequencies of their stems)."""
    return _cosine(
        {t: float(n) for t, n in a.stem_counts.items()}, {t: float(n) for t, n in b.stem_counts.items()}
    )


def _cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(value * b.get(term, 0.0) for term, value in a.items())
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def _idf(total: int, frequency: int) -> float:
    return math.log(1.0 + total / frequency)
