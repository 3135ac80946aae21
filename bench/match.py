"""Matching benchmark: the subscription index against a naive regex-per-subscription baseline.

    python -m bench.match [--quick] [--data DIR]

For 1k / 10k / 100k distinct subscriptions over ``en_rss_2023`` it prints articles per second of the engine
(one Aho-Corasick scan per article) and of the baseline (one compiled word-boundary regex per subscription,
run on a smaller sample) measured in the same run, the speed-up and the process's peak memory.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import statistics
import sys
import time
from pathlib import Path

import ahocorasick

from bench.queries import make_queries
from bot.core.matching import MatchEngine, QueryError, SubscriptionIndex
from bot.core.matching.normalize import normalize_text

__all__ = ["load_articles", "make_queries", "run"]  # make_queries: other benchmarks import it from here

TIERS = (1_000, 10_000, 100_000)
PASSES = 3
CORPUS = "en_rss_2023.jsonl.gz"
POOL, POOL_QUICK = 60_000, 20_000  # articles the queries are drawn from; the first 10k / 3k are matched


def default_data_dir() -> Path:
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def load_articles(data_dir: Path, limit: int) -> list[str]:
    path = data_dir / CORPUS
    if not path.is_file():
        raise FileNotFoundError(f"benchmark corpus not found: {path} (pass --data DIR)")
    articles: list[str] = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            articles.append(f"{record.get('title') or ''}\n\n{record.get('text') or ''}")
            if len(articles) >= limit:
                break
    return articles


def load_languages(data_dir: Path, limit: int) -> list[str | None]:
    """The ``lang`` of the first ``limit`` records: the pipeline matches with the language ingest found."""
    with gzip.open(data_dir / CORPUS, "rt", encoding="utf-8") as lines:
        return [json.loads(line).get("lang") for line, _ in zip(lines, range(limit), strict=False)]


def _naive_patterns(queries: list[str]) -> list[re.Pattern[str]]:
    patterns = []
    for query in queries:
        terms = [t for t in re.split(r'\s+(?:AND|OR|NOT)\s+|\s+-|"', query) if t.strip()]
        alternation = "|".join(re.escape(t.strip()) for t in terms)
        patterns.append(re.compile(rf"\b(?:{alternation})\b", re.IGNORECASE))
    return patterns


# Rates use this process's CPU time: other work on a shared machine must not distort the comparison.
def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def _best_pass(
    index: SubscriptionIndex, articles: list[str], langs: list[str | None]
) -> tuple[float, list[int]]:
    """CPU seconds of the fastest of PASSES passes (as timeit does: slower ones measure interference), and
    the number of subscriptions each article matched."""
    best = float("inf")
    matched: list[int] = []
    for _ in range(PASSES):
        started = time.process_time()
        matched = [len(index.match(text, lang)) for text, lang in zip(articles, langs, strict=True)]
        best = min(best, time.process_time() - started)
    return best, matched


def _bare_scan(index: SubscriptionIndex, articles: list[str]) -> float:
    """The floor of the approach: CPU seconds of one pyahocorasick pass over the already normalised articles
    with the index's own surface forms, touching every match once and doing nothing with it."""
    automaton = ahocorasick.Automaton()
    for number, key in enumerate(index.surface_keys()):
        automaton.add_word(key, number)
    automaton.make_automaton()
    padded = [f" {normalize_text(text).text} " for text in articles]
    best = float("inf")
    for _ in range(PASSES):
        started = time.process_time()
        found = 0
        for text in padded:
            for _match in automaton.iter(text):
                found += 1
        best = min(best, time.process_time() - started)
    return best


def _percentile(values: list[int], share: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(share * len(ordered)))]) if ordered else 0.0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run(quick: bool = False, data_dir: Path | None = None) -> dict[str, float]:
    """Run every tier; keys like ``match_articles_per_s_100k`` and ``match_speedup_vs_naive_100k``."""
    engine = MatchEngine.load()
    data_dir = data_dir or default_data_dir()
    pool = load_articles(data_dir, POOL_QUICK if quick else POOL)
    articles = pool[: 3_000 if quick else 10_000]
    # as the pipeline calls it: with the article's language (ingest detected it); the second figure makes
    # the matcher detect it itself
    langs = load_languages(data_dir, len(articles))
    unknown: list[str | None] = [None] * len(articles)
    all_queries = make_queries(pool, engine, max(TIERS))  # from a larger pool: the long tail of real use
    del pool
    naive_sample = {1_000: 200, 10_000: 50, 100_000: 10} if quick else {1_000: 1000, 10_000: 200, 100_000: 30}
    figures: dict[str, float] = {"articles_engine": float(len(articles))}
    for tier in TIERS:
        label = f"{tier // 1000}k"
        queries = all_queries[:tier]
        started = time.process_time()
        index = SubscriptionIndex(engine)
        for key, query in enumerate(queries):
            try:
                index.add(key, query)
            except QueryError:
                continue  # a generated query the engine rejects (e.g. only stop words) is skipped
        index.match("warm-up builds the automaton")
        figures[f"build_s_{label}"] = time.process_time() - started
        seconds, matched = _best_pass(index, articles, langs)
        figures[f"match_articles_per_s_{label}"] = _rate(len(articles), seconds)
        figures[f"match_articles_per_s_lang_unknown_{label}"] = _rate(
            len(articles), _best_pass(index, articles, unknown)[0]
        )
        figures[f"matches_per_article_{label}"] = sum(matched) / len(articles)
        figures[f"match_median_hits_per_article_{label}"] = float(statistics.median(matched))
        figures[f"match_p99_hits_per_article_{label}"] = _percentile(matched, 0.99)
        figures[f"bare_scan_articles_per_s_{label}"] = _rate(len(articles), _bare_scan(index, articles))
        figures[f"match_ratio_to_bare_scan_{label}"] = (
            figures[f"bare_scan_articles_per_s_{label}"] / figures[f"match_articles_per_s_{label}"]
        )
        patterns = _naive_patterns(queries)
        sample = articles[: naive_sample[tier]]
        started = time.process_time()
        for text in sample:
            [p for p in patterns if p.search(text)]
        figures[f"naive_articles_per_s_{label}"] = _rate(len(sample), time.process_time() - started)
        figures[f"match_speedup_vs_naive_{label}"] = (
            figures[f"match_articles_per_s_{label}"] / figures[f"naive_articles_per_s_{label}"]
        )
        figures[f"subscriptions_{label}"] = float(len(index))
        figures[f"peak_rss_mb_{label}"] = _peak_rss_mb()
        del index, patterns
    for key in ("match_ratio_to_bare_scan", "match_median_hits_per_article", "match_p99_hits_per_article"):
        figures[key] = figures[f"{key}_{max(TIERS) // 1000}k"]  # the largest tier (100k in a real run)
    return figures


def print_table(figures: dict[str, float]) -> None:
    print(
        f"corpus {CORPUS}: {int(figures['articles_engine'])} articles through the engine (best of {PASSES} "
        "passes); rates in CPU time of this process"
    )
    header = (
        f"{'subs':>8} {'engine art/s':>13} {'no lang art/s':>14} {'bare scan art/s':>16} {'ratio':>6} "
        f"{'naive art/s':>12} "
        f"{'speedup':>9} {'build s':>8} {'peak RSS MB':>12} {'hits/art median':>16} {'p99':>5}"
    )
    print(header)
    for tier in TIERS:
        label = f"{tier // 1000}k"
        print(
            f"{label:>8} {figures[f'match_articles_per_s_{label}']:>13,.0f} "
            f"{figures[f'match_articles_per_s_lang_unknown_{label}']:>14,.0f} "
            f"{figures[f'bare_scan_articles_per_s_{label}']:>16,.0f} "
            f"{figures[f'match_ratio_to_bare_scan_{label}']:>5.2f}x "
            f"{figures[f'naive_articles_per_s_{label}']:>12,.1f} "
            f"{figures[f'match_speedup_vs_naive_{label}']:>8,.0f}x "
            f"{figures[f'build_s_{label}']:>8.2f} {figures[f'peak_rss_mb_{label}']:>12,.0f} "
            f"{figures[f'match_median_hits_per_article_{label}']:>16.0f} "
            f"{figures[f'match_p99_hits_per_article_{label}']:>5.0f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.match", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller samples, for a fast look")
    parser.add_argument("--data", type=Path, help=f"folder holding {CORPUS} (default: ../shared/data)")
    args = parser.parse_args(argv)
    try:
        figures = run(quick=args.quick, data_dir=args.data)
    except FileNotFoundError as exc:
        print(f"bench.match: {exc}", file=sys.stderr)
        return 2
    print_table(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
