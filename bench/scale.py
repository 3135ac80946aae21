"""Scale benchmark: growth in subscriptions and in archive size, each at four sizes.

    newsalert bench --only scale [--quick]      (or: python -m bench --only scale)

Subscriptions: one ``SubscriptionIndex`` (what the pipeline matches with) grown to each size with the
match benchmark's query mix; memory added since before the index (resident, MB and bytes per subscription)
and the CPU cost of matching one article, over the same article sample at every size.

Archive: one SQLite database with FTS grown to each size with synthetic articles (real RSS headlines and
teasers, numbered variants so none is a duplicate); at each size a fixed batch of fresh articles goes through
``IngestService.ingest_items`` with matching on (1,000 subscriptions), and an archive search is timed.
Flat per-article figures and flat memory are the goal.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.table import Table

from bench.common import (
    RSS_CORPUS,
    bench_settings,
    corpus_path,
    current_rss_mb,
    iter_records,
    peak_rss_mb,
    progress,
    record_text,
    seed_chats,
)
from bench.match import load_articles, make_queries
from bench.queries import distinct_queries
from bot.app import build_services
from bot.core.clock import SystemClock
from bot.core.ingest import ParsedItem, content_hash
from bot.core.ingest.text import hash_key
from bot.core.matching import MatchEngine, QueryError, SubscriptionIndex
from bot.core.models import ArticleDraft
from bot.services.ingest import IngestService
from bot.storage.store import Storage

FILL_BATCH = 5_000
SEARCH_TERMS = ("Ukraine", "election", "climate", "football", "inflation")


@dataclass(frozen=True, slots=True)
class ScaleSizes:
    subscriptions: tuple[int, ...] = (1_000, 10_000, 50_000, 100_000)
    archive: tuple[int, ...] = (10_000, 100_000, 250_000, 500_000)
    match_sample: int = 2_000  # articles matched at every subscription size
    probe: int = 1_000  # fresh articles ingested at every archive size
    archive_subscriptions: int = 1_000
    base_articles: int = 20_000  # distinct corpus items the synthetic archive is varied from
    query_articles: int = 5_000  # corpus items the subscription queries are drawn from


FULL = ScaleSizes()
QUICK = ScaleSizes(
    subscriptions=(1_000, 5_000, 10_000, 20_000),
    archive=(5_000, 10_000, 25_000, 50_000),
    match_sample=500,
    probe=500,
    base_articles=10_000,
    query_articles=2_000,
)


# --- subscriptions -----------------------------------------------------------------------------------------
def subscription_curve(queries: list[str], sample: list[str], sizes: tuple[int, ...]) -> dict[str, float]:
    """Runs in a fresh process: resident memory grows by the index, and by nothing freed before it."""
    engine = MatchEngine.load()
    _warm_up(engine, queries[:10], sample[:20])  # lexicon, lemma dictionaries: loaded once, not per index
    figures: dict[str, float] = {}
    gc.collect()
    baseline = current_rss_mb()
    index = SubscriptionIndex(engine)
    added = 0
    for size in sizes:
        progress(f"scale: subscription index at {size:,}")
        started = time.process_time()
        for key in range(added, min(size, len(queries))):
            try:
                index.add(key, queries[key])
            except QueryError:
                continue  # a generated query the engine refuses
        index.match("warm-up builds the automaton")
        added = size
        build = time.process_time() - started
        gc.collect()
        memory = current_rss_mb() - baseline
        started = time.process_time()
        hits = sum(len(index.match(text)) for text in sample)
        per_article = (time.process_time() - started) / len(sample)
        figures |= {
            f"subs_{size}_count": float(len(index)),
            f"subs_{size}_build_s": build,
            f"subs_{size}_rss_mb": memory,
            f"subs_{size}_bytes_per_sub": memory * 1024 * 1024 / max(len(index), 1),
            f"subs_{size}_match_us_per_article": per_article * 1e6,
            f"subs_{size}_hits_per_article": hits / len(sample),
        }
    return figures


def _warm_up(engine: MatchEngine, queries: list[str], texts: list[str]) -> None:
    index = SubscriptionIndex(engine)
    for key, query in enumerate(queries):
        with contextlib.suppress(QueryError):
            index.add(key, query)
    for text in texts:
        index.match(text)


# --- archive -----------------------------------------------------------------------------------------------
def _variant(base: list[tuple[str, str]], number: int, tag: str) -> ArticleDraft:
    title, body = base[number % len(base)]
    round_ = number // len(base)
    if round_ or tag:
        title = f"{title} ({tag}{round_})"
    return ArticleDraft(title=title, body=body, lang="en", source="bench")


def _fill_batch(base: list[tuple[str, str]], start: int, stop: int) -> list[tuple[str, ArticleDraft]]:
    drafts = [_variant(base, n, "") for n in range(start, stop)]
    return [(content_hash(d), d) for d in drafts]


def _probe_items(base: list[tuple[str, str]], count: int, tag: str) -> list[ParsedItem]:
    """Fresh articles: ``tag`` (words and digits only count, see ``hash_key``) keeps each batch distinct."""
    drafts = [_variant(base, n, f"{tag} ") for n in range(count)]
    return [ParsedItem(f"{tag}:{n}", d, "ok") for n, d in enumerate(drafts)]


async def _grow(storage: Storage, base: list[tuple[str, str]], first: int, count: int) -> int:
    """Store ``count`` synthetic articles numbered from ``first``; returns the next number."""
    stop = first + count
    while first < stop:
        end = min(stop, first + FILL_BATCH)
        rows = await asyncio.to_thread(_fill_batch, base, first, end)
        await storage.articles.insert_many(rows, datetime.now(UTC))
        first = end
    return first


async def _archive_curve(
    workdir: Path, base: list[tuple[str, str]], queries: list[str], sizes: ScaleSizes
) -> dict[str, float]:
    settings = bench_settings(workdir)
    storage = await Storage.open(settings.db_path)
    try:
        await seed_chats(
            storage, MatchEngine.load(), [(str(2_000_000 + n), [q]) for n, q in enumerate(queries)]
        )
        services, _ = await build_services(settings, storage, SystemClock())
        # the first match builds the automaton: not part of any size's figure
        await services.ingest.ingest_items(await asyncio.to_thread(_probe_items, base, 10, "warmup"))
        figures: dict[str, float] = {}
        next_number = 0
        for round_, size in enumerate(sizes.archive):
            progress(f"scale: archive at {size:,} articles")
            missing = max(0, size - sizes.probe - await storage.articles.count())  # probes stay stored
            next_number = await _grow(storage, base, next_number, missing)
            figures |= await _probe(storage, services.ingest, base, sizes.probe, round_, size)
        return figures
    finally:
        await storage.close()


async def _probe(
    storage: Storage, ingest: IngestService, base: list[tuple[str, str]], count: int, round_: int, size: int
) -> dict[str, float]:
    """Ingest ``count`` fresh articles (they stay: the archive grows by them) and time archive searches
    (newest ten matches, what ``search`` shows)."""
    items = await asyncio.to_thread(_probe_items, base, count, f"probe{round_}")
    started, cpu_started = time.perf_counter(), time.process_time()
    report = await ingest.ingest_items(items)
    ingest_s, ingest_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    started = time.perf_counter()
    for term in SEARCH_TERMS:
        await storage.articles.search(term, 10)
    search_s = (time.perf_counter() - started) / len(SEARCH_TERMS)
    gc.collect()
    return {
        f"archive_{size}_articles": float(await storage.articles.count()),
        f"archive_{size}_new": float(report.count("new")),
        f"archive_{size}_ingest_us_per_article": ingest_s / count * 1e6,
        # CPU time of every thread of this process (SQLite works in aiosqlite's thread): what the
        # work costs, whatever else the machine is doing
        f"archive_{size}_ingest_cpu_us_per_article": ingest_cpu_s / count * 1e6,
        f"archive_{size}_search_ms": search_s * 1e3,
        f"archive_{size}_rss_mb": current_rss_mb(),
        f"archive_{size}_db_mb": storage_size_mb(storage),
    }


def storage_size_mb(storage: Storage) -> float:
    path = Path(str(storage.db.path))
    files = (path, path.with_name(path.name + "-wal"))
    return sum(f.stat().st_size for f in files if f.exists()) / 1024 / 1024


def archive_curve(base: list[tuple[str, str]], queries: list[str], sizes: ScaleSizes) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="newsalert-bench-scale-") as tmp:
        return asyncio.run(_archive_curve(Path(tmp), base, queries, sizes))


def _base_articles(data_dir: Path | None, count: int) -> list[tuple[str, str]]:
    """Distinct corpus items (the feeds repeat stories) with a teaser long enough to be an article."""
    base = []
    seen: set[str] = set()
    for record in iter_records(corpus_path(RSS_CORPUS, data_dir)):
        title, body = record_text(record)
        key = hash_key(f"{title}\n{body}")
        if title and len(body) >= 80 and key not in seen:
            seen.add(key)
            base.append((title, body))
            if len(base) >= count:
                break
    return base


# --- entry -------------------------------------------------------------------------------------------------
def run(
    quick: bool = False, data_dir: Path | None = None, sizes: ScaleSizes | None = None
) -> dict[str, float]:
    sizes = sizes or (QUICK if quick else FULL)
    engine = MatchEngine.load()
    corpus_dir = corpus_path(RSS_CORPUS, data_dir).parent
    texts = load_articles(corpus_dir, max(sizes.query_articles, sizes.match_sample))
    sample = texts[: sizes.match_sample]
    sub_queries = make_queries(texts[: sizes.query_articles], engine, max(sizes.subscriptions))
    archive_queries = distinct_queries(texts[: sizes.query_articles], engine, sizes.archive_subscriptions)
    del texts
    base = _base_articles(data_dir, sizes.base_articles)
    # Each curve in a fresh process: freed memory is not handed back to the system, so measured where
    # the inputs were generated (or after the other curve) resident memory would show, or hide by reusing
    # it, a heap that is not the index's or the archive's.
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn, max_tasks_per_child=1) as pool:
        figures = pool.submit(archive_curve, base, archive_queries, sizes).result()
        figures |= pool.submit(subscription_curve, sub_queries, sample, sizes.subscriptions).result()
    figures |= _flatness(figures, sizes)
    # the memory figure: the index at the largest size (100k in a full run)
    figures["index_bytes_per_subscription"] = figures[f"subs_{max(sizes.subscriptions)}_bytes_per_sub"]
    figures["scale_peak_rss_mb"] = peak_rss_mb()
    return figures


def _flatness(figures: dict[str, float], sizes: ScaleSizes) -> dict[str, float]:
    """Largest size against smallest: 1.0 is perfectly flat."""
    small_s, large_s = sizes.subscriptions[0], sizes.subscriptions[-1]
    small_a, large_a = sizes.archive[0], sizes.archive[-1]
    return {
        "scale_match_cost_ratio": _ratio(
            figures[f"subs_{large_s}_match_us_per_article"], figures[f"subs_{small_s}_match_us_per_article"]
        ),
        "scale_ingest_cost_ratio": _ratio(
            figures[f"archive_{large_a}_ingest_cpu_us_per_article"],
            figures[f"archive_{small_a}_ingest_cpu_us_per_article"],
        ),
        "scale_search_cost_ratio": _ratio(
            figures[f"archive_{large_a}_search_ms"], figures[f"archive_{small_a}_search_ms"]
        ),
        "scale_archive_rss_ratio": _ratio(
            figures[f"archive_{large_a}_rss_mb"], figures[f"archive_{small_a}_rss_mb"]
        ),
    }


def _ratio(large: float, small: float) -> float:
    return large / small if small > 0 else 0.0


def _sizes_in(figures: dict[str, float], prefix: str) -> list[int]:
    return sorted(
        int(key.split("_")[1]) for key in figures if key.startswith(prefix) and key.endswith("_rss_mb")
    )


def tables(figures: dict[str, float]) -> list[Table]:
    subs = Table(title="scale: subscriptions (one index, CPU time per article)")
    for column in ("subscriptions", "build s", "index RSS MB", "bytes/sub", "µs/article", "hits/article"):
        subs.add_column(column, justify="right")
    for size in _sizes_in(figures, "subs_"):
        subs.add_row(
            f"{figures[f'subs_{size}_count']:,.0f}",
            f"{figures[f'subs_{size}_build_s']:.1f}",
            f"{figures[f'subs_{size}_rss_mb']:,.0f}",
            f"{figures[f'subs_{size}_bytes_per_sub']:,.0f}",
            f"{figures[f'subs_{size}_match_us_per_article']:,.0f}",
            f"{figures[f'subs_{size}_hits_per_article']:.1f}",
        )
    archive = Table(title="scale: archive (fresh articles ingested with FTS and matching on)")
    for column in ("articles", "µs/article wall", "µs/article CPU", "search ms", "RSS MB", "database MB"):
        archive.add_column(column, justify="right")
    for size in _sizes_in(figures, "archive_"):
        archive.add_row(
            f"{figures[f'archive_{size}_articles']:,.0f}",
            f"{figures[f'archive_{size}_ingest_us_per_article']:,.0f}",
            f"{figures[f'archive_{size}_ingest_cpu_us_per_article']:,.0f}",
            f"{figures[f'archive_{size}_search_ms']:.1f}",
            f"{figures[f'archive_{size}_rss_mb']:,.0f}",
            f"{figures[f'archive_{size}_db_mb']:,.0f}",
        )
    return [subs, archive]


def tiny() -> ScaleSizes:
    return ScaleSizes(
        subscriptions=(10, 20, 30, 40),
        archive=(40, 80, 120, 160),
        match_sample=20,
        probe=10,
        archive_subscriptions=20,
        base_articles=100,
        query_articles=1_000,
    )
