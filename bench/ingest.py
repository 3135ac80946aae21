"""Ingest benchmark: corpora through the real ``IngestService.ingest_path`` into a fresh SQLite with FTS and
matching on (a realistic number of subscriptions), articles per second and peak memory.

    newsalert bench --only ingest [--quick]      (or: python -m bench --only ingest)

Time is wall-clock (what an admin waits for). ``<label>_match_share`` is the share of it during which
the pipeline's ``process_articles`` (matching in a worker thread, writing outbox rows) was busy; it
overlaps reading, parsing, hashing and storing the next batch, so near 100 % means matching is the
bottleneck stage.

Each corpus is also loaded the plainest way in the same run (:mod:`bench.plain_load`: json parse, SQLite
insert, FTS5 index), and ``<label>_ratio_to_plain_load`` says how many times that floor the pipeline takes
(wall clock; ``<label>_cpu_ratio_to_plain_load`` the same in CPU time, steadier on a shared machine).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import multiprocessing
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rich.table import Table

from bench.common import (
    GERMAN_CORPORA,
    RSS_CORPUS,
    ChildrenPeak,
    bench_settings,
    children_cpu_s,
    corpus_path,
    current_rss_mb,
    iter_records,
    peak_rss_mb,
    progress,
    record_text,
    seed_chats,
)
from bench.match import load_articles
from bench.plain_load import plain_load
from bench.queries import distinct_queries
from bot.app import build_services
from bot.core.clock import SystemClock
from bot.core.lemma_cache import warm_lemma_cache
from bot.core.matching import MatchEngine
from bot.core.models import Article
from bot.storage.store import Storage
from config.locations import default_cache_dir

TARGET_ITEMS_PER_S = 3_000.0
WARM_UP_ENGLISH = "en_bbc_2005.jsonl"
WARM_UP_PER_CORPUS = 30
GERMAN_LABELS = ("de_10kgnad", "de_wikinews")


@dataclass(frozen=True, slots=True)
class IngestSizes:
    subscriptions: int = 1_000
    rss_items: int | None = None  # None: the whole corpus
    german_items: int | None = None
    query_sample: int = 5_000  # corpus articles the subscription queries are drawn from


FULL = IngestSizes()
QUICK = IngestSizes(rss_items=10_000, german_items=300, query_sample=2_000)


@dataclass(slots=True)
class _Timed:
    """Wraps the pipeline listener to add up the time matching was busy. Since ingest_path matches batch k
    while it stores batch k+1 (and hands batch k+1 over while batch k still writes its alerts), this is the
    share of the wall time at least one batch was in the pipeline, overlapping the rest, not a split of it:
    near 100 % means matching is the stage everything waits on."""

    inner: Callable[[list[Article]], Awaitable[int]]
    seconds: float = 0.0
    _active: int = 0
    _since: float = 0.0

    async def __call__(self, articles: list[Article]) -> None:
        if self._active == 0:
            self._since = time.perf_counter()
        self._active += 1
        try:
            await self.inner(articles)
        finally:
            self._active -= 1
            if self._active == 0:
                self.seconds += time.perf_counter() - self._since


def _prepare_inputs(workdir: Path, data_dir: Path | None, sizes: IngestSizes) -> list[tuple[str, Path]]:
    """The corpora as ``(label, path)``; a size limit writes a cut-down copy into ``workdir``."""
    inputs = [("rss", _cut(corpus_path(RSS_CORPUS, data_dir), sizes.rss_items, workdir))]
    for label, name in zip(GERMAN_LABELS, GERMAN_CORPORA, strict=True):
        inputs.append((label, _cut(corpus_path(name, data_dir), sizes.german_items, workdir)))
    return inputs


def warm_up_document(data_dir: Path | None, per_corpus: int = WARM_UP_PER_CORPUS) -> bytes:
    """A JSONL upload of renamed English and German corpus articles (none is a duplicate of a measured one).

    The first articles pay one-time costs (language models and lemma dictionaries load lazily, the
    subscription automaton is built on the first match); a running bot has paid them long before a big
    import, so the measured runs start warm and the warm-up time is reported on its own."""
    lines = []
    for name in (WARM_UP_ENGLISH, *GERMAN_CORPORA):
        for number, record in zip(range(per_corpus), iter_records(corpus_path(name, data_dir)), strict=False):
            title, body = record_text(record)
            renamed = {"id": f"warm-up-{name}-{number}", "title": f"Warm-up {title}", "text": body}
            renamed["lang"] = record.get("lang")
            lines.append(json.dumps(renamed, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def _cut(path: Path, limit: int | None, workdir: Path) -> Path:
    if limit is None:
        return path
    target = workdir / path.name.removesuffix(".gz")
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as source, target.open("w", encoding="utf-8") as out:
        for count, line in enumerate(source):
            if count >= limit:
                break
            out.write(line)
    return target


async def _ingest_all(
    workdir: Path, inputs: Sequence[tuple[str, Path]], queries: list[str], engine: MatchEngine, warm_up: bytes
) -> dict[str, float]:
    settings = bench_settings(workdir)
    storage = await Storage.open(settings.db_path)
    try:
        await seed_chats(storage, engine, [(str(1_000_000 + n), [q]) for n, q in enumerate(queries)])
        services, pipeline = await build_services(settings, storage, SystemClock(), engine=engine)
        figures: dict[str, float] = {"subscriptions": float(len(pipeline))}
        started = time.perf_counter()
        await services.ingest.ingest_document("warm-up.jsonl", warm_up, max_bytes=len(warm_up) + 1)
        figures["warm_up_s"] = time.perf_counter() - started
        for label, path in inputs:
            progress(f"ingest: {path.name} with {len(pipeline)} subscriptions")
            timed = _Timed(pipeline.process_articles)
            services.ingest.set_listener(timed)
            started, cpu_started = time.perf_counter(), time.process_time() + children_cpu_s()
            with ChildrenPeak() as children:  # a large corpus is read by a child process
                report = await services.ingest.ingest_path(path)
            seconds = time.perf_counter() - started
            figures[f"{label}_cpu_s"] = time.process_time() + children_cpu_s() - cpu_started
            figures[f"{label}_reader_peak_rss_mb"] = children.mb
            items = len(report.outcomes)
            figures |= {
                f"{label}_items": float(items),
                f"{label}_new": float(report.count("new")),
                f"{label}_rejected": float(report.count("rejected")),
                f"{label}_seconds": seconds,
                f"{label}_items_per_s": items / seconds if seconds > 0 else 0.0,
                f"{label}_match_share": timed.seconds / seconds if seconds > 0 else 0.0,
                f"{label}_rss_mb_after": current_rss_mb(),
            }
            progress(f"ingest: {items} items in {seconds:.1f}s ({figures[f'{label}_items_per_s']:,.0f}/s)")
            # Freed here, not when the next corpus' report replaces it: freeing the RSS corpus' 122,813
            # outcomes cost ~0.05 s CPU inside the next (German) measurement.
            del report
        figures["outbox_rows"] = float(sum((await storage.outbox.status_counts()).values()))
        return figures
    finally:
        await storage.close()


def run(
    quick: bool = False, data_dir: Path | None = None, sizes: IngestSizes | None = None
) -> dict[str, float]:
    """Keys: ``ingest_items_per_s`` (RSS corpus), per-corpus ``<label>_items_per_s`` and ``peak_rss_mb``."""
    sizes = sizes or (QUICK if quick else FULL)
    cache_dir = default_cache_dir()
    _build_lemma_cache(cache_dir)
    engine = MatchEngine.load(cache_dir=cache_dir)  # as `newsalert ingest` loads it
    sample = load_articles(corpus_path(RSS_CORPUS, data_dir).parent, sizes.query_sample)
    queries = distinct_queries(sample, engine, sizes.subscriptions)
    del sample
    with tempfile.TemporaryDirectory(prefix="newsalert-bench-ingest-") as tmp:
        workdir = Path(tmp)
        inputs = _prepare_inputs(workdir, data_dir, sizes)
        warm_up = warm_up_document(data_dir)
        plain = _plain_loads(workdir, inputs)
        figures = plain | asyncio.run(_ingest_all(workdir, inputs, queries, engine, warm_up))
        figures["db_mb"] = (workdir / "bench.db").stat().st_size / 1024 / 1024
    german_items = sum(figures[f"{g}_items"] for g in GERMAN_LABELS)
    german_seconds = sum(figures[f"{g}_seconds"] for g in GERMAN_LABELS)
    figures["ingest_items_per_s"] = figures["rss_items_per_s"]
    figures["ingest_german_items_per_s"] = german_items / german_seconds if german_seconds > 0 else 0.0
    for label in ("rss", *GERMAN_LABELS):
        figures[f"{label}_ratio_to_plain_load"] = _ratio(figures[f"{label}_seconds"], figures[f"{label}_plain_s"])
        figures[f"{label}_cpu_ratio_to_plain_load"] = _ratio(
            figures[f"{label}_cpu_s"], figures[f"{label}_plain_cpu_s"]
        )
    figures["ingest_ratio_to_plain_load"] = figures["rss_ratio_to_plain_load"]
    figures["ingest_german_ratio_to_plain_load"] = _ratio(
        german_seconds, sum(figures[f"{g}_plain_s"] for g in GERMAN_LABELS)
    )
    figures["peak_rss_mb"] = peak_rss_mb()
    # the child that reads a large corpus (bot.services.ingest_reader) runs beside this process
    figures["ingest_reader_peak_rss_mb"] = max(
        figures[f"{label}_reader_peak_rss_mb"] for label in ("rss", *GERMAN_LABELS)
    )
    return figures


def _build_lemma_cache(cache_dir: Path) -> None:
    """Build the lemma cache, if missing, in a child process: an installation builds it once (its first
    `match` or start), so neither its CPU nor its memory belongs to an ingest's figures."""
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=warm_lemma_cache, args=(cache_dir,))
    child.start()
    child.join()


def _plain_loads(workdir: Path, inputs: Sequence[tuple[str, Path]]) -> dict[str, float]:
    """The same-run floor of every corpus (see :mod:`bench.plain_load`), into a scratch database."""
    figures: dict[str, float] = {}
    for label, path in inputs:
        loaded = plain_load(path, workdir / "plain.db")
        progress(f"plain load: {path.name}: {loaded.rows} rows in {loaded.seconds:.1f}s")
        figures |= {
            f"{label}_plain_rows": float(loaded.rows),
            f"{label}_plain_s": loaded.seconds,
            f"{label}_plain_cpu_s": loaded.cpu_seconds,
        }
    (workdir / "plain.db").unlink(missing_ok=True)
    return figures


def _ratio(value: float, floor: float) -> float:
    return value / floor if floor > 0 else 0.0


def table(figures: dict[str, float]) -> Table:
    out = Table(title=f"ingest ({int(figures['subscriptions'])} subscriptions, FTS and matching on)")
    columns = ("corpus", "items", "new", "rejected", "seconds", "items/s", "plain load s", "× plain", "× plain CPU")
    for column in (*columns, "in matching", "RSS MB after"):
        out.add_column(column, justify="left" if column == "corpus" else "right")
    for label in ("rss", *GERMAN_LABELS):
        out.add_row(
            label,
            f"{figures[f'{label}_items']:,.0f}",
            f"{figures[f'{label}_new']:,.0f}",
            f"{figures[f'{label}_rejected']:,.0f}",
            f"{figures[f'{label}_seconds']:.1f}",
            f"{figures[f'{label}_items_per_s']:,.0f}",
            f"{figures[f'{label}_plain_s']:.1f}",
            f"{figures[f'{label}_ratio_to_plain_load']:.1f}",
            f"{figures[f'{label}_cpu_ratio_to_plain_load']:.1f}",
            f"{figures[f'{label}_match_share']:.0%}",
            f"{figures[f'{label}_rss_mb_after']:,.0f}",
        )
    out.caption = (
        f"peak RSS {figures['peak_rss_mb']:,.0f} MB, reader process {figures['ingest_reader_peak_rss_mb']:,.0f} MB;"
        f" database {figures['db_mb']:,.0f} MB; "
        f"one-time warm-up before the runs {figures['warm_up_s']:.1f}s"
    )
    return out


def tiny() -> IngestSizes:
    """Sizes for the smoke test: seconds, not minutes."""
    return replace(QUICK, subscriptions=20, rss_items=200, german_items=20, query_sample=1_000)
