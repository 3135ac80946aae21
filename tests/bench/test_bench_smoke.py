"""The benchmarks at tiny sizes: they run end to end and return figures of the right shape.

Not a performance test: nothing here looks at how fast anything was, only at counts and structure.
"""

from __future__ import annotations

import gzip
import json
import math
import multiprocessing
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

import bench.match
from bench import fanout, ingest, latency, runner, scale
from bench.common import RSS_CORPUS, BenchError, ChildrenPeak, default_data_dir
from bot.cli import main as cli_main

DATA = default_data_dir()
needs_corpora = pytest.mark.skipif(not (DATA / RSS_CORPUS).is_file(), reason=f"corpora not found in {DATA}")


def _assert_figures(figures: dict[str, float], required: set[str]) -> None:
    assert required <= figures.keys(), required - figures.keys()
    for key, value in figures.items():
        assert isinstance(value, float), key
        assert math.isfinite(value) and value >= 0, (key, value)


@needs_corpora
def test_ingest_tiny() -> None:
    sizes = ingest.tiny()
    figures = ingest.run(sizes=sizes)
    _assert_figures(
        figures,
        {"ingest_items_per_s", "ingest_german_items_per_s", "peak_rss_mb", "ingest_reader_peak_rss_mb", "db_mb"},
    )
    assert figures["rss_items"] == sizes.rss_items
    assert figures["rss_new"] + figures["rss_rejected"] <= sizes.rss_items
    for label in ingest.GERMAN_LABELS:
        assert figures[f"{label}_items"] == sizes.german_items
    assert figures["subscriptions"] == sizes.subscriptions
    assert figures["ingest_items_per_s"] > 0


@needs_corpora
def test_fanout_tiny_delivers_once_to_every_chat_without_429() -> None:
    sizes = fanout.tiny()
    figures = fanout.run(sizes=sizes)
    _assert_figures(
        figures, {"fanout_share_of_limit", "fanout_msgs_per_s", "fanout_429s", "fanout_peak_rss_mb"}
    )
    assert figures["fanout_delivered"] == sizes.chats
    assert figures["fanout_distinct_chats"] == sizes.chats
    assert figures["fanout_429s"] == 0
    assert figures["fanout_other_errors"] == 0
    # Both processes' CPU is measured: the bot's and the test server's own (a separate process).
    assert figures["fanout_bot_cpu_ms_per_msg"] > 0 and figures["fanout_server_cpu_ms_per_msg"] > 0


@needs_corpora
def test_latency_tiny_alerts_every_upload() -> None:
    sizes = latency.tiny()
    figures = latency.run(sizes=sizes)
    _assert_figures(figures, {"latency_p50_s", "latency_p95_s", "latency_max_s"})
    assert figures["latency_alerts"] == sizes.articles
    assert figures["latency_p50_s"] <= figures["latency_p95_s"] <= figures["latency_max_s"]


@needs_corpora
def test_scale_tiny_reports_every_size() -> None:
    sizes = scale.tiny()
    figures = scale.run(sizes=sizes)
    _assert_figures(
        figures,
        {
            "scale_match_cost_ratio",
            "scale_ingest_cost_ratio",
            "scale_search_cost_ratio",
            "scale_archive_rss_ratio",
        },
    )
    for size in sizes.subscriptions:
        assert figures[f"subs_{size}_count"] == size
    for size in sizes.archive:
        assert figures[f"archive_{size}_articles"] == size
        assert figures[f"archive_{size}_new"] == sizes.probe
    assert len(scale.tables(figures)) == 2


@pytest.fixture
def small_rss(tmp_path: Path) -> Path:
    """The first records of the RSS corpus: ``bench.match`` takes a folder, so it runs small on this one."""
    with gzip.open(DATA / RSS_CORPUS, "rt", encoding="utf-8") as source:
        head = [line for _, line in zip(range(1_500), source, strict=False)]
    with gzip.open(tmp_path / RSS_CORPUS, "wt", encoding="utf-8") as out:
        out.writelines(head)
    return tmp_path


@needs_corpora
def test_match_through_the_runner_at_its_smallest_tier(
    small_rss: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench.match, "TIERS", (1_000,))  # the 10k and 100k tiers take minutes
    report = runner.run_all(["match"], quick=True, data_dir=small_rss, runner=runner.run_benchmark)
    figures = report["benchmarks"]["match"]
    _assert_figures(figures, {"match_articles_per_s_1k", "match_speedup_vs_naive_1k", "peak_rss_mb_1k"})
    assert figures["articles_engine"] == 1_500
    assert report["ingest_items_per_s"] is None  # not run
    assert runner.match_table(figures).row_count == 1


# --- the runner and the command line, with figures from a stand-in ------------------------------------------
FAKE: dict[str, dict[str, float]] = {
    "ingest": {"ingest_items_per_s": 3500.0, "ingest_german_items_per_s": 400.0, "peak_rss_mb": 300.0},
    "fanout": {"fanout_share_of_limit": 0.97, "fanout_msgs_per_s": 485.0, "fanout_429s": 0.0},
    "latency": {"latency_p50_s": 0.05, "latency_p95_s": 0.08},
}


def _fake_runner(name: str, quick: bool, data_dir: Path | None) -> dict[str, float]:
    return FAKE[name]


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    out = tmp_path / "latest.json"
    real_run_all = runner.run_all

    def run_all(names: list[str], **kwargs: object) -> dict[str, object]:
        return real_run_all(names, quick=bool(kwargs["quick"]), runner=_fake_runner)

    def fake_tables(results: dict[str, dict[str, float]]) -> list[object]:
        return []

    monkeypatch.setattr(runner, "run_all", run_all)
    monkeypatch.setattr(runner, "detail_tables", fake_tables)
    monkeypatch.setattr(runner, "results_path", lambda: out)
    yield out


def test_json_output_is_one_object_with_the_headline_keys(
    fake_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli_main(["bench", "--json", "--only", "ingest", "fanout", "latency"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)  # exactly one JSON document on stdout
    for key in (
        "ingest_items_per_s",
        "match_articles_per_s_100k",
        "match_speedup_vs_naive_100k",
        "fanout_share_of_limit",
        "latency_p95_s",
        "peak_rss_mb",
        "machine",
    ):
        assert key in printed
    assert printed["ingest_items_per_s"] == 3500.0
    assert printed["peak_rss_mb"] == 300.0
    assert printed["match_articles_per_s_100k"] is None
    assert {"cores", "cpu_model", "python"} <= printed["machine"].keys()
    assert json.loads(fake_run.read_text(encoding="utf-8")) == printed


def test_table_output_names_targets_and_machine(fake_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(["--only", "ingest", "fanout", "latency"]) == 0
    out = capsys.readouterr().out
    assert "≥ 3,000" in out and "met" in out
    assert "cores" in out


@pytest.mark.parametrize(
    "argv",
    [["bench", "--only", "nonsense"], ["bench", "--quick", "extra"]],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli_main(argv)
    assert exited.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_missing_corpus_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.main(["--data", str(tmp_path), "--only", "ingest"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not found" in err[0] and str(tmp_path) in err[0]


def test_isolated_run_reports_the_child_failure_as_bench_error(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match="not found"):
        runner.run_isolated("scale", True, tmp_path)


def test_headline_without_runs_is_all_none() -> None:
    assert set(runner.headline({}).values()) == {None}


def _hold(megabytes: int, conn: Connection) -> None:
    block = bytearray(megabytes * 1024 * 1024)  # zero-filled: resident once written
    block[:: 4096] = b"x" * len(block[:: 4096])
    conn.send("held")
    conn.recv()


def test_children_peak_reads_a_child_process_s_own_memory() -> None:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_hold, args=(64, child))
    with ChildrenPeak(every=0.01) as peak:
        process.start()
        assert parent.recv() == "held"
        deadline = time.monotonic() + 10
        while peak.mb < 64 and time.monotonic() < deadline:  # until the sampler has looked at the child
            time.sleep(0.01)
        parent.send("done")
        process.join()
    assert 64 <= peak.mb < 64 + 60  # the block plus an interpreter, not this process' own pages
