"""One entry point for every benchmark: ``newsalert bench`` and ``python -m bench``.

Each benchmark runs in a fresh process of its own, so its peak memory is its own and nothing one leaves
behind (caches, threads, a grown heap) weighs on the next. Progress goes to stderr; stdout carries the
tables, or with ``--json`` exactly one JSON object. The same object is written to
``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import multiprocessing
import os
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import (
    GERMAN_CORPORA,
    RSS_CORPUS,
    BenchError,
    corpus_path,
    machine_info,
    machine_line,
    progress,
    repo_root,
)

if TYPE_CHECKING:  # rich is imported where tables are drawn: every `newsalert` command imports this module
    from multiprocessing.connection import Connection

    from rich.table import Table

# Explicit registry, in the order they run: name → module with run(quick, data_dir) -> dict[str, float].
BENCHMARKS: dict[str, str] = {
    "ingest": "bench.ingest",
    "match": "bench.match",
    "fanout": "bench.fanout",
    "latency": "bench.latency",
    "scale": "bench.scale",
    "trend": "bench.trend",
    "startup": "bench.startup",
}
MATCH_TIERS = ("1k", "10k", "100k")
Figures = dict[str, float]


def results_path() -> Path:
    return repo_root() / "bench" / "results" / "latest.json"


# --- running -----------------------------------------------------------------------------------------------
def run_benchmark(name: str, quick: bool, data_dir: Path | None) -> Figures:
    """Run one benchmark in this process."""
    module = importlib.import_module(BENCHMARKS[name])
    try:
        figures: Figures = module.run(quick=quick, data_dir=data_dir)
    except FileNotFoundError as exc:  # bench.match reports a missing corpus this way
        raise BenchError(str(exc)) from None
    return figures


def _child(name: str, quick: bool, data_dir: Path | None, conn: Connection) -> None:
    try:
        conn.send(("ok", run_benchmark(name, quick, data_dir)))
    except BenchError as exc:
        conn.send(("error", str(exc)))
    except BaseException as exc:  # reported by the parent as one line; the child's stderr has the details
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        conn.close()


def run_isolated(name: str, quick: bool, data_dir: Path | None) -> Figures:
    """Run one benchmark in a fresh (spawned) process and return its figures."""
    context = multiprocessing.get_context("spawn")
    parent_conn, child_conn = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(name, quick, data_dir, child_conn), name=f"bench-{name}")
    process.start()
    child_conn.close()
    try:
        status, payload = parent_conn.recv()
    except EOFError:
        process.join()
        raise BenchError(f"benchmark {name} died (exit code {process.exitcode})") from None
    finally:
        parent_conn.close()
    process.join()
    if status != "ok":
        raise BenchError(f"benchmark {name} failed: {payload}")
    figures: Figures = payload
    return figures


def run_all(
    names: Sequence[str],
    *,
    quick: bool,
    data_dir: Path | None = None,
    runner: Callable[[str, bool, Path | None], Figures] = run_isolated,
) -> dict[str, Any]:
    """Every named benchmark, then the headline figures; raises BenchError on the first failure."""
    machine = machine_info()
    machine["load_average_before"] = _load_average()
    results: dict[str, Figures] = {}
    seconds: dict[str, float] = {}
    for name in names:
        progress(f"{name}: starting ({'quick' if quick else 'full'} run)")
        started = time.perf_counter()
        results[name] = runner(name, quick, data_dir)
        seconds[name] = time.perf_counter() - started
        progress(f"{name}: done in {seconds[name]:.0f}s")
    machine["load_average_after"] = _load_average()
    return {
        **headline(results),
        "quick": quick,
        "seconds": seconds,
        "machine": machine,
        "benchmarks": results,
    }


def check_data(names: Sequence[str], data_dir: Path | None) -> None:
    """Fail in a second, not after minutes, when a corpus is missing."""
    needed = {"ingest": [RSS_CORPUS, *GERMAN_CORPORA], "match": [RSS_CORPUS], "scale": [RSS_CORPUS]}
    needed["fanout"] = needed["latency"] = ["en_bbc_2005.jsonl"]  # startup needs no corpus
    for name in names:
        for corpus in needed.get(name, []):
            corpus_path(corpus, data_dir)


def _load_average() -> list[float]:
    """Other work on the machine slows every figure down; the JSON records how busy it was."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def headline(results: dict[str, Figures]) -> dict[str, float | None]:
    """The figures the README and CI compare; ``None`` for a benchmark that did not run."""
    ingest = results.get("ingest", {})
    match = results.get("match", {})
    fanout = results.get("fanout", {})
    latency = results.get("latency", {})
    scale = results.get("scale", {})
    startup = results.get("startup", {})
    peaks = [v for figures in results.values() for k, v in figures.items() if k.endswith("peak_rss_mb")]
    return {
        "ingest_items_per_s": ingest.get("ingest_items_per_s"),
        "ingest_german_items_per_s": ingest.get("ingest_german_items_per_s"),
        "ingest_ratio_to_plain_load": ingest.get("ingest_ratio_to_plain_load"),
        "ingest_german_ratio_to_plain_load": ingest.get("ingest_german_ratio_to_plain_load"),
        "match_articles_per_s_100k": match.get("match_articles_per_s_100k"),
        "match_speedup_vs_naive_100k": match.get("match_speedup_vs_naive_100k"),
        "match_ratio_to_bare_scan": match.get("match_ratio_to_bare_scan"),
        "match_median_hits_per_article": match.get("match_median_hits_per_article"),
        "match_p99_hits_per_article": match.get("match_p99_hits_per_article"),
        "index_bytes_per_subscription": scale.get("index_bytes_per_subscription"),
        "fanout_msgs_per_s": fanout.get("fanout_msgs_per_s"),
        "fanout_share_of_limit": fanout.get("fanout_share_of_limit"),
        "fanout_429s": fanout.get("fanout_429s"),
        "fanout_limit": fanout.get("fanout_limit"),
        "fanout_bot_cpu_ms_per_msg": fanout.get("fanout_bot_cpu_ms_per_msg"),
        "latency_p50_s": latency.get("latency_p50_s"),
        "latency_p95_s": latency.get("latency_p95_s"),
        "scale_match_cost_ratio": scale.get("scale_match_cost_ratio"),
        "scale_ingest_cost_ratio": scale.get("scale_ingest_cost_ratio"),
        "scale_search_cost_ratio": scale.get("scale_search_cost_ratio"),
        "scale_archive_rss_ratio": scale.get("scale_archive_rss_ratio"),
        "startup_help_s": startup.get("startup_help_s"),
        "startup_match_s": startup.get("startup_match_s"),
        "startup_search_s": startup.get("startup_search_s"),
        "startup_run_ready_s": startup.get("startup_run_ready_s"),
        # the ingest run's peak (the whole corpus through the pipeline); else the largest one measured
        "peak_rss_mb": ingest.get("peak_rss_mb", max(peaks, default=None)),
        "ingest_reader_peak_rss_mb": ingest.get("ingest_reader_peak_rss_mb"),  # the child reading it, beside
    }


# --- output ------------------------------------------------------------------------------------------------
def write_results(report: dict[str, Any], path: Path | None = None) -> Path:
    path = path or results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def detail_tables(results: dict[str, Figures]) -> list[Table]:
    tables: list[Table] = []
    for name, figures in results.items():
        if name == "match":
            tables.append(match_table(figures))
            continue
        module = importlib.import_module(BENCHMARKS[name])
        if hasattr(module, "tables"):
            tables.extend(module.tables(figures))
        else:
            tables.append(module.table(figures))
    return tables


def match_table(figures: Figures) -> Table:
    from rich.table import Table

    out = Table(
        title=f"match: engine vs naive regex baseline ({figures['articles_engine']:,.0f} RSS articles)"
    )
    for column in ("subscriptions", "engine art/s", "naive art/s", "speed-up", "build s", "matches/article"):
        out.add_column(column, justify="right")
    for tier in (t for t in MATCH_TIERS if f"subscriptions_{t}" in figures):
        out.add_row(
            f"{figures[f'subscriptions_{tier}']:,.0f}",
            f"{figures[f'match_articles_per_s_{tier}']:,.0f}",
            f"{figures[f'naive_articles_per_s_{tier}']:,.1f}",
            f"{figures[f'match_speedup_vs_naive_{tier}']:,.0f}x",
            f"{figures[f'build_s_{tier}']:.1f}",
            f"{figures[f'matches_per_article_{tier}']:.1f}",
        )
    return out


_COMPARE: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    ">=": ("≥", lambda value, bound: value >= bound),
    "<=": ("≤", lambda value, bound: value <= bound),
    "==": ("=", lambda value, bound: value == bound),
}


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """One line of the summary table (see bench/goals.toml)."""

    figure: str
    key: str
    format: str
    goal: str = ""  # "<= 3": the comparison and the bound
    note: str = ""  # shown where a figure has no hard goal

    def cells(self, value: float) -> tuple[str, str, str, str]:
        if not self.goal:
            return self.figure, format(value, self.format), self.note, ""
        operator, bound_text = self.goal.split()
        symbol, holds = _COMPARE[operator]
        bound = float(bound_text)
        verdict = "[green]met[/green]" if holds(value, bound) else "[red]missed[/red]"
        return self.figure, format(value, self.format), f"{symbol} {format(bound, self.format)}", verdict


def summary_rows() -> list[SummaryRow]:
    table = tomllib.loads((Path(__file__).parent / "goals.toml").read_text(encoding="utf-8"))
    return [SummaryRow(**row) for row in table["row"]]


def summary_table(report: dict[str, Any]) -> Table:
    from rich.table import Table

    out = Table(title="newsalert benchmarks" + (" (quick)" if report["quick"] else ""))
    for column in ("figure", "value", "target", ""):
        out.add_column(column, justify="left" if column == "figure" else "right")
    for row in summary_rows():
        value = report.get(row.key)
        if value is not None:
            out.add_row(*row.cells(value))
    seconds = report["seconds"]
    out.caption = (
        f"{machine_line(report['machine'])}; load average {report['machine']['load_average_before']}; "
        + ", ".join(f"{name} {s:.0f}s" for name, s in seconds.items())
    )
    return out


def print_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, sort_keys=False))
        return
    from rich.console import Console

    console = Console(width=max(Console().width, 100))
    for table in detail_tables(report["benchmarks"]):
        console.print(table)
    console.print(summary_table(report))


# --- command line ------------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under 2 minutes)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(BENCHMARKS),
        metavar="NAME",
        help=f"run only these: {', '.join(BENCHMARKS)}",
    )
    parser.add_argument(
        "--data", type=Path, metavar="DIR", help="folder of the corpora (default: ../shared/data)"
    )


def run_from_args(args: argparse.Namespace) -> int:
    names = [name for name in BENCHMARKS if not args.only or name in args.only]
    try:
        check_data(names, args.data)
        report = run_all(names, quick=args.quick, data_dir=args.data)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    path = write_results(report)
    progress(f"results written to {path}")
    print_report(report, args.json)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="newsalert benchmarks")
    add_arguments(parser)
    try:
        return run_from_args(parser.parse_args(argv))
    except KeyboardInterrupt:
        return 130
