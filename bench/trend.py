"""Trend benchmark: a 90-day chart over a synthetic archive of 500,000 articles (target ≤ 2 s).

    newsalert bench --only trend [--quick]      (or: python -m bench --only trend)

The archive spans a year (publication dates spread evenly, a story that grows in the last month) and is
built from bilingual article templates naming people, places and topics of the lexicon; every article is a
numbered variant of a template. The entity keys each template names come from the real ``KeyScanner`` (a
sample of whole articles is re-scanned to check the variants name the same), and are stored as the
pipeline stores them at ingest. Timed per request, as the chat runs it: counting (``TrendService.report``)
and rendering (``TrendService.chart``), wall and CPU time (all threads of the process), median of a few
runs after one warm-up (matplotlib's import). Baselines: re-matching every article of the period with the
MatchEngine (measured on a sample, extrapolated), and the backfill's reading speed.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.table import Table

from bench.common import peak_rss_mb, progress
from bot.core.clock import FakeClock
from bot.core.i18n import translator
from bot.core.matching import MatchEngine
from bot.core.matching.keys import KeyScanner
from bot.core.models import ArticleDraft
from bot.core.trends import ArticleMentions
from bot.services.trends import TrendService
from bot.storage.store import Storage

END = date(2024, 6, 30)
SCENARIOS: dict[str, tuple[str, ...]] = {
    "one": ("Putin",),
    "three": ("Putin", "Kim", "Waffendeal"),
    "boolean": ("Putin AND Kim",),
    "freetext": ("Treffen",),
}

# (lang, title, body, weight); {n} makes every article distinct
TEMPLATES: tuple[tuple[str, str, str, int], ...] = (
    ("de", "Putin empfängt Kim in Moskau", "Kremlchef Wladimir Putin hat Nordkoreas Machthaber Kim Jong-un "
     "empfangen. Es ging um einen Waffendeal und um die Lage in der Ukraine.", 3),
    ("de", "Treffen in Wladiwostok", "Bei einem Treffen in Wladiwostok sprachen Vertreter Russlands und "
     "Nordkoreas über Handel und Energie.", 2),
    ("de", "Sanktionen gegen Russland verlängert", "Die Europäische Union hat die Sanktionen gegen Russland "
     "um ein halbes Jahr verlängert, teilte Brüssel mit.", 4),
    ("de", "Selenskyj bittet um Waffen", "Der ukrainische Präsident Wolodymyr Selenskyj bat in Berlin um "
     "weitere Waffenlieferungen und Flugabwehr.", 4),
    ("de", "Xi Jinping besucht Paris", "Chinas Staatschef Xi Jinping ist zu einem Staatsbesuch in Frankreich "
     "eingetroffen und traf Präsident Emmanuel Macron.", 3),
    ("de", "Gipfeltreffen der G7", "Beim Gipfeltreffen der sieben großen Industriestaaten ging es um den "
     "Krieg in der Ukraine und um China.", 2),
    ("de", "Bundesliga: Bayern gewinnt", "Der FC Bayern hat sein Heimspiel mit drei zu eins gewonnen; die "
     "Zuschauer sahen ein lebhaftes Spiel.", 8),
    ("de", "Wetter: Hitze im Süden", "Der Deutsche Wetterdienst erwartet im Süden bis zu 35 Grad und warnt "
     "vor Gewittern am Abend.", 8),
    ("en", "Putin's visit to Pyongyang", "Russian President Vladimir Putin travelled to North Korea, where "
     "Kim Jong-un welcomed him; an arms deal is said to be on the table.", 3),
    ("en", "Kremlin says talks with Kyiv stalled", "Vladimir Putin's spokesman said talks with Ukraine had "
     "stalled, as fighting continued in the east.", 4),
    ("en", "Kim Kardashian launches a perfume", "Kim Kardashian launched a new perfume line in Los Angeles, "
     "her company said on Tuesday.", 2),
    ("en", "Biden meets Xi in California", "Joe Biden and Xi Jinping met for four hours near San Francisco "
     "and agreed to resume military talks.", 3),
    ("en", "NATO summit in Washington", "NATO leaders gathered in Washington; Jens Stoltenberg said Ukraine's "
     "path to membership was irreversible.", 3),
    ("en", "Markets close higher", "Stocks closed higher on Wall Street as investors weighed new figures "
     "on inflation and jobs.", 10),
    ("en", "Storm hits the coast", "A storm brought heavy rain and strong winds to the coast, cutting "
     "power to thousands of homes.", 8),
    ("en", "Lavrov and Wang Yi meet", "Sergei Lavrov met Wang Yi in Beijing to discuss the war in Ukraine "
     "and relations with the United States.", 2),
)
STORY = (0, 8)  # templates that grow in the last 30 days: the chart's story


@dataclass(frozen=True, slots=True)
class TrendSizes:
    articles: int = 500_000
    days: int = 365
    runs: int = 3
    naive_sample: int = 2_000  # articles re-matched by the baseline
    backfill: int = 5_000  # articles left unindexed, then read by the backfill
    check_sample: int = 300  # whole articles re-scanned to check the template keys


FULL = TrendSizes()
QUICK = TrendSizes(articles=50_000, backfill=2_000)


def tiny() -> TrendSizes:
    return replace(QUICK, articles=1_500, runs=1, naive_sample=100, backfill=200, check_sample=50)


def run(
    quick: bool = False, data_dir: Path | None = None, sizes: TrendSizes | None = None, archive: Path | None = None
) -> dict[str, float]:
    """``archive``: keep the synthetic database there and reuse it on the next run (building 500k articles
    takes minutes); by default it lives in a temporary folder."""
    sizes = sizes or (QUICK if quick else FULL)
    if archive is not None:
        return asyncio.run(_measure(archive, sizes))
    with tempfile.TemporaryDirectory(prefix="newsalert-bench-trend-") as tmp:
        return asyncio.run(_measure(Path(tmp) / "trend.db", sizes))


def _article(n: int, sizes: TrendSizes, rng: random.Random, weights: list[int]) -> tuple[int, ArticleDraft]:
    back = rng.randrange(sizes.days)
    weighted = [w * (4 if back < 30 and i in STORY else 1) for i, w in enumerate(weights)]
    index = rng.choices(range(len(TEMPLATES)), weights=weighted)[0]
    lang, title, body, _ = TEMPLATES[index]
    draft = ArticleDraft(f"{title} ({n})", f"{body} Meldung {n}.", lang, END - timedelta(days=back), "bench")
    return index, draft


async def _build(storage: Storage, engine: MatchEngine, sizes: TrendSizes) -> tuple[float, int]:
    """Store the archive with its mentions (except the last ``backfill`` articles); returns seconds taken
    and how many sampled articles named other keys than their template (must be 0)."""
    scanner = KeyScanner(engine.lexicon)
    template_keys = [scanner.keys(f"{t}\n\n{b}", lang) for lang, t, b, _ in TEMPLATES]
    rng = random.Random(17)
    weights = [w for *_, w in TEMPLATES]
    now = datetime(2024, 7, 1, tzinfo=UTC)
    started = time.perf_counter()
    mismatches = 0
    batch = 5_000
    for begin in range(0, sizes.articles, batch):
        made = [_article(n, sizes, rng, weights) for n in range(begin, min(begin + batch, sizes.articles))]
        hashes = [hashlib.sha256(f"bench-{begin + i}".encode()).hexdigest() for i in range(len(made))]
        ids = await storage.articles.insert_many(list(zip(hashes, [d for _, d in made], strict=True)), now)
        indexed = sizes.articles - sizes.backfill  # the rest is left for the backfill to read
        mentions = [
            ArticleMentions(aid, draft.published, template_keys[index])  # type: ignore[arg-type]
            for i, (aid, (index, draft)) in enumerate(zip(ids, made, strict=True))
            if aid is not None and begin + i < indexed
        ]
        await storage.trends.record(mentions)
        if begin == 0:
            for index, draft in made[: sizes.check_sample]:
                mismatches += scanner.keys(f"{draft.title}\n\n{draft.body}", draft.lang) != template_keys[index]
        if begin % 50_000 == 0:
            progress(f"trend: archive {begin + len(made):,} / {sizes.articles:,}")
    return time.perf_counter() - started, mismatches


async def _timed(action: Callable[[], Awaitable[object]], runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds (CPU of every thread: aiosqlite's and the worker threads' too)."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        await action()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


async def _measure(path: Path, sizes: TrendSizes) -> dict[str, float]:
    engine = await asyncio.to_thread(MatchEngine.load)
    reuse = await asyncio.to_thread(path.exists)
    storage = await Storage.open(path)
    figures: dict[str, float] = {"trend_articles": float(sizes.articles)}
    try:
        if reuse:  # built before: read the backfill part again
            await storage.trends.reindex_after(sizes.articles - sizes.backfill)
            build_s, mismatches = 0.0, 0
        else:
            build_s, mismatches = await _build(storage, engine, sizes)
        figures.update(trend_build_s=build_s, trend_key_mismatches=float(mismatches))
        service = TrendService(storage, engine, FakeClock(datetime(2024, 6, 30, 12, tzinfo=UTC)))
        wall, cpu = time.perf_counter(), time.process_time()
        read = await service.index_pending()
        figures["trend_backfill_articles_per_s"] = read / max(time.perf_counter() - wall, 1e-9)
        figures["trend_backfill_cpu_ms_per_article"] = 1000 * (time.process_time() - cpu) / max(read, 1)
        t = translator("en")
        warm = await service.report(["Putin"], 90)
        await service.chart(warm, t)  # imports matplotlib, loads fonts: once per process
        for name, queries in SCENARIOS.items():
            await _scenario(service, name, queries, sizes, figures)
        await _naive(service, storage, engine, sizes, figures)
    finally:
        await storage.close()
    figures["trend_peak_rss_mb"] = peak_rss_mb()
    return figures


async def _scenario(
    service: TrendService, name: str, queries: tuple[str, ...], sizes: TrendSizes, figures: dict[str, float]
) -> None:
    t = translator("en")
    report = await service.report(list(queries), 90)
    count_s, count_cpu = await _timed(lambda: service.report(list(queries), 90), sizes.runs)
    render_s, render_cpu = await _timed(lambda: service.chart(report, t), sizes.runs)
    figures[f"trend_{name}_count_s"] = count_s
    figures[f"trend_{name}_render_s"] = render_s
    figures[f"trend_{name}_total_s"] = count_s + render_s
    figures[f"trend_{name}_cpu_s"] = count_cpu + render_cpu
    figures[f"trend_{name}_count_cpu_s"] = count_cpu
    figures[f"trend_{name}_matched"] = float(sum(s.total + s.previous_total for s in report.series))
    progress(f"trend: {name} {queries}: {count_s:.2f}s counting + {render_s:.2f}s rendering")


async def _naive(
    service: TrendService, storage: Storage, engine: MatchEngine, sizes: TrendSizes, figures: dict[str, float]
) -> None:
    """Baseline: ask the engine about every article of both 90-day periods (sampled, extrapolated)."""
    in_window = sizes.articles * min(180, sizes.days) / sizes.days
    sample = await storage.articles.latest(sizes.naive_sample)
    started = time.process_time()
    for article in sample:
        engine.match("Putin", f"{article.title}\n\n{article.body}", article.lang)
    per_article = (time.process_time() - started) / max(len(sample), 1)
    figures["trend_naive_one_cpu_s"] = per_article * in_window
    # CPU against CPU: wall times on a shared machine measure the neighbours as much as the code
    figures["trend_speedup_vs_naive"] = figures["trend_naive_one_cpu_s"] / max(figures["trend_one_count_cpu_s"], 1e-9)


def table(figures: dict[str, float]) -> Table:
    out = Table(title=f"trend: 90-day chart over {figures['trend_articles']:,.0f} synthetic articles (target ≤ 2 s)")
    for column in ("queries", "counting s", "rendering s", "total s", "CPU s", "articles matched"):
        out.add_column(column, justify="right")
    for name, queries in SCENARIOS.items():
        out.add_row(
            ", ".join(queries),
            f"{figures[f'trend_{name}_count_s']:.2f}",
            f"{figures[f'trend_{name}_render_s']:.2f}",
            f"{figures[f'trend_{name}_total_s']:.2f}",
            f"{figures[f'trend_{name}_cpu_s']:.2f}",
            f"{figures[f'trend_{name}_matched']:,.0f}",
        )
    out.caption = (
        f"re-matching the period instead (Putin, baseline): {figures['trend_naive_one_cpu_s']:.1f} s CPU, "
        f"{figures['trend_speedup_vs_naive']:.0f}× the counting CPU; backfill reads "
        f"{figures['trend_backfill_articles_per_s']:,.0f} articles/s; archive built in "
        f"{figures['trend_build_s']:.0f} s; key mismatches in the sample {figures['trend_key_mismatches']:.0f}"
    )
    return out
