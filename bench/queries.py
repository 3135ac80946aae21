"""Subscription queries for the benchmarks: distinct and realistic.

100k *distinct* subscriptions are necessarily mostly the long tail: a few hundred people follow Putin, but
that is one query; the rest are names, places and keywords that few articles mention. The mix: every lexicon
name (the popular ones), proper names and name pairs seen in a pool of the corpus (skipping the most common),
rarer keywords, phrases and boolean queries. A median article then matches a handful of them, as in real use
(the benchmarks report the median and 99th percentile).
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator

from bot.core.matching import MatchEngine, QueryError
from bot.core.matching.normalize import STOPWORDS

COMMON_NAMES_SKIPPED = 400  # "Monday", "President", "New York": in almost every story, followed by nobody
COMMON_WORDS_SKIPPED = 4_000  # keywords people follow are specific words, not "said" or "people"
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")
# capitalised words (and pairs) after a lower-case word: names, not sentence starts
_LOWER_RE = re.compile(r"\b[a-z]{3,}\b")
_NAME_RE = re.compile(r"(?<=[a-z,] )([A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})?)")


def make_queries(articles: list[str], engine: MatchEngine, count: int, seed: int = 7) -> list[str]:
    """``count`` distinct queries drawn from ``articles`` (a pool: the larger, the longer the tail)."""
    rng = random.Random(seed)
    names = Counter(m.group(1) for text in articles for m in _NAME_RE.finditer(text))
    lower = Counter(w for text in articles for w in _LOWER_RE.findall(text))
    # a proper name is capitalised where other words are not ("Molan", not "New" or "After")
    proper = [
        n
        for n, c in names.most_common()[COMMON_NAMES_SKIPPED:]
        if c >= 2 and lower[n.split()[0].lower()] * 10 < c and n.lower() not in STOPWORDS
    ]
    words = Counter(w for text in articles for w in _WORD_RE.findall(text) if w.lower() not in STOPWORDS)
    # a keyword in more than one article in 2,000 is a common word ("newest", "saying"), not a subject
    most = max(2, len(articles) // 2_000)
    keywords = [w for w, c in words.most_common()[COMMON_WORDS_SKIPPED:] if 2 <= c <= most and w.isalpha()]
    # each lexicon entry once: "USA", "America" and "U.S." are one subscription followed by many chats
    lexicon_names = [e.name("en") for e in engine.lexicon.entries.values()]
    queries: dict[str, None] = dict.fromkeys(lexicon_names[: count // 5])
    common = {w.lower() for w, _ in words.most_common(COMMON_WORDS_SKIPPED)}
    common.update(w for w, _ in lower.most_common(COMMON_WORDS_SKIPPED))
    for attempt in _query_stream(rng, proper, keywords):
        if len(queries) >= count:
            break
        if attempt not in queries and _long_tail(engine, attempt, common):
            queries[attempt] = None
    mix = list(queries)[:count]
    rng.shuffle(mix)  # every tier gets the same mix of names, keywords and boolean queries
    return mix


def _long_tail(engine: MatchEngine, query: str, common: set[str]) -> bool:
    """A generated query that is not a popular lexicon entity again ("Kiev" is Ukraine, already in once)
    and does not stand for a common word ("Newest" → "new")."""
    try:
        atoms = engine.compile(query).positive_atoms()
    except QueryError:
        return False
    return all(a.entry_id is None and not any(f.norm in common for f in a.forms) for a in atoms)


def _query_stream(rng: random.Random, proper: list[str], keywords: list[str]) -> Iterator[str]:
    # A tiny corpus (the smoke tests) may have no long-tail names or keywords at all: borrow from the other
    # pool, and stop when both are empty (the lexicon names are the whole mix then).
    proper = proper or keywords
    keywords = keywords or proper
    while proper:
        a, b = rng.choice(proper), rng.choice(proper)
        shape = rng.random()
        if shape < 0.6:
            yield a
        elif shape < 0.7:
            yield rng.choice(keywords)
        elif shape < 0.8:
            yield f'"{rng.choice(keywords)} {rng.choice(keywords)}"'
        elif shape < 0.9:
            yield f"{a} AND {b}"
        else:
            yield f"{a} -{rng.choice(keywords)}"


def distinct_queries(articles: list[str], engine: MatchEngine, count: int) -> list[str]:
    """``count`` subscriptions that each follow something different: the match benchmark's realistic mix,
    with aliases of one entity ("USA", "U.S.", "Amerika") kept once, as one chat would follow them once."""
    chosen: dict[str, str] = {}
    for query in make_queries(articles, engine, count * 2):
        try:
            key = engine.resolve(query).key
        except QueryError:
            continue
        chosen.setdefault(key, query)
        if len(chosen) >= count:
            break
    return list(chosen.values())
