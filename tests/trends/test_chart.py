"""The PNG (valid, 1200×675), periods and their parsing, the figures of a series, and the caption."""

from __future__ import annotations

import io
import struct
from datetime import date, timedelta

import pytest
from PIL import Image as PILImage

from bot.core.i18n import translator
from bot.core.trends import Period, TrendRefused, TrendSeries, parse_trend_args
from bot.core.trends.caption import caption, empty_text
from bot.core.trends.chart import HEIGHT, MAX_DATE_TICKS, WIDTH, _tick_positions, render_png

END = date(2024, 6, 30)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def series(label: str, days: int, counts: dict[int, int], previous: int = 0) -> TrendSeries:
    period = Period(END, days)
    dated = [END - timedelta(days=back) for back, n in counts.items() for _ in range(n)]
    dated += [period.previous_start] * previous
    return TrendSeries.count(label, label, period, dated, (("Kim Jong-un", 3),))


@pytest.mark.parametrize("days", [7, 30, 90, 365])
@pytest.mark.parametrize("lang", ["en", "de"])
def test_png_is_valid_and_of_the_stated_size(days: int, lang: str) -> None:
    charts = [series("Putin", days, {0: 2, 3: 5}, 4), series("Kim", days, {1: 1}), series("arms deal", days, {})]
    data = render_png(charts, translator(lang))
    assert png_size(data) == (WIDTH, HEIGHT) == (1200, 675)
    with PILImage.open(io.BytesIO(data)) as image:
        image.verify()  # raises on a truncated or corrupt file
    with PILImage.open(io.BytesIO(data)) as image:
        assert image.size == (1200, 675)
        assert len(image.convert("RGB").getcolors(maxcolors=1_000_000) or ()) > 10  # something was drawn


@pytest.mark.parametrize("count", [1, 7, 30, 53, 90, 91])
def test_date_ticks_are_few_enough_not_to_overlap_and_include_today(count: int) -> None:
    ticks = _tick_positions(count)
    assert len(ticks) <= MAX_DATE_TICKS
    assert ticks[-1] == count - 1 and ticks == sorted(set(ticks))


def test_periods() -> None:
    period = Period(END, 30)
    assert (period.start, period.previous_start) == (date(2024, 6, 1), date(2024, 5, 2))
    assert len(period.dates()) == 30 and not period.weekly
    year = Period(END, 365)
    assert year.weekly and year.bucket_of(date(2024, 6, 30)) == date(2024, 6, 24)  # a Sunday → its Monday


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("Putin", (["Putin"], 30)),
        ("Putin 7d", (["Putin"], 7)),
        ("Putin, Kim, Lukaschenko 1y", (["Putin", "Kim", "Lukaschenko"], 365)),
        ('"arms deal" -Ukraine, Kim 90D', (['"arms deal" -Ukraine', "Kim"], 90)),
        ("Putin, Putin 2w", (["Putin"], 14)),
    ],
)
def test_parse_trend_args(args: str, expected: tuple[list[str], int]) -> None:
    assert parse_trend_args(args) == expected


@pytest.mark.parametrize("args", ["", "90d", "a, b, c, d", "Putin 0d", "Putin 9999y", " , "])
def test_bad_trend_args_are_refused(args: str) -> None:
    with pytest.raises(TrendRefused):
        parse_trend_args(args)


def test_series_figures() -> None:
    one = series("Putin", 30, {0: 2, 3: 5, 10: 1}, previous=4)
    assert one.total == 8 and one.previous_total == 4
    assert one.busiest == (END - timedelta(days=3), 5)
    assert one.change == 1.0
    assert series("Kim", 30, {}).busiest is None and series("Kim", 30, {}).change is None


def test_caption_in_both_languages() -> None:
    charts = [series("Putin", 30, {0: 2, 3: 5}, previous=4)]
    english = caption(charts, translator("en"))
    assert "Articles of the last 30 days" in english and "Putin</b>: 7 articles" in english
    assert "busiest day Jun 27, 2024 (5)" in english and "+75% against the previous 30 days" in english
    assert "Most named with Putin: Kim Jong-un 3" in english
    german = caption(charts, translator("de"))
    assert "Artikel der letzten 30 Tage" in german and "stärkster Tag 27.06.2024 (5)" in german
    assert "+75\xa0%" in german and "Am häufigsten mit Putin genannt" in german
    assert "none in the previous 30 days" in caption([series("Kim", 30, {0: 1})], translator("en"))
    assert "matches <b>Kim</b>" in empty_text([series("Kim", 30, {})], translator("en"))


@pytest.mark.parametrize(
    "query", ["Putin", "Putin AND Kim", "Putin -Kim", "Putin OR Kim", "(Putin OR Kim) -Xi", "Putin AND (Kim OR -Xi)"]
)
def test_set_operations_agree_with_the_query_per_article(query: str) -> None:
    """Every combination of named keys: the set evaluation picks exactly the articles the query holds for."""
    from itertools import product

    from bot.core.matching import MatchEngine
    from bot.core.trends import plan_query
    from bot.core.trends.plan import matching_ids

    plan = plan_query(MatchEngine.load().compile(query))
    keys = ["entity:putin", "entity:kim_jong_un", "entity:xi_jinping"]
    combinations = enumerate(product([0, 1], repeat=3))
    articles = {i: {k for k, on in zip(keys, bits, strict=True) if on} for i, bits in combinations}
    naming = {k: {i for i, named in articles.items() if k in named} for k in keys}
    assert matching_ids(plan, naming) == {i for i, named in articles.items() if plan.holds(named)}
