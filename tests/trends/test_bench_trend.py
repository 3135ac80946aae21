"""The trend benchmark at a tiny size runs end to end with figures of the right shape (not a timing test)."""

from __future__ import annotations

import math

from bench import runner, trend


def test_trend_benchmark_tiny() -> None:
    sizes = trend.tiny()
    figures = trend.run(sizes=sizes)
    assert figures["trend_articles"] == sizes.articles
    assert figures["trend_key_mismatches"] == 0  # numbered variants name what their template names
    for name in trend.SCENARIOS:
        assert figures[f"trend_{name}_matched"] > 0, name
        assert math.isfinite(figures[f"trend_{name}_total_s"])
    assert figures["trend_one_matched"] >= figures["trend_boolean_matched"]  # Putin AND Kim ⊆ Putin
    assert runner.BENCHMARKS["trend"] == "bench.trend"
    assert trend.table(figures).row_count == len(trend.SCENARIOS)
