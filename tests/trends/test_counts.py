"""The counts behind a chart equal an independent count of matching articles (engine, article by article), on
SQLite and on PostgreSQL,
whether the entity keys were stored by the pipeline's scan or read later by the backfill."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import App, running_app
from bot.core.clock import FakeClock
from config.settings import Settings
from tests.fakes import command
from tests.trends.archive import ARTICLES, NOW, QUERIES, TODAY, independent_counts, write_seeds


@pytest.fixture(params=["pipeline", "backfill"])
async def archive_app(request: pytest.FixtureRequest, backend_name: str, tmp_path: Path) -> AsyncIterator[App]:
    """On SQLite and on PostgreSQL (``backend_name``): the counts must not depend on the engine."""
    url = request.getfixturevalue("pg_database_url") if backend_name == "postgres" else None
    settings = Settings(  # type: ignore[call-arg]
        db_path=tmp_path / "db" / "news.db", database_url=url, seeds_dir=tmp_path / "no-seeds", _env_file=None
    )
    async with running_app(settings, clock=FakeClock(NOW), run_jobs=False, load_seeds=False) as app:
        folder = write_seeds(tmp_path / "fixture")
        if request.param == "pipeline":
            await app.handle(command("/subscribe Obama"))  # a subscription makes the pipeline scan
            await app.services.ingest.ingest_path(folder)
            assert await app.storage.trends.pending_count() == 0  # the pipeline's scan was stored
        else:
            await app.services.ingest.ingest_path(folder, alert=False)  # archived without matching
            assert await app.storage.trends.pending_count() == len(ARTICLES)
        yield app


async def test_the_fixture_languages_are_the_stored_ones(archive_app: App) -> None:
    stored = {a.title: a.lang for a in await archive_app.storage.articles.latest(100)}
    assert stored == {a.title: a.lang for a in ARTICLES}


@pytest.mark.parametrize("days", [7, 30, 90])
async def test_counts_equal_an_independent_count(archive_app: App, days: int) -> None:
    engine = archive_app.services.engine
    report = await archive_app.services.trends.report(list(QUERIES[:3]), days, until=TODAY)
    more = await archive_app.services.trends.report(list(QUERIES[3:6]), days, until=TODAY)
    last = await archive_app.services.trends.report(list(QUERIES[6:]), days, until=TODAY)
    for series in (*report.series, *more.series, *last.series):
        period = series.period
        expected = independent_counts(engine, series.query, period.start, period.end)
        assert {d: n for d, n in series.daily.items() if n} == dict(expected), series.query
        previous = independent_counts(engine, series.query, period.previous_start, period.start - timedelta(1))
        assert series.previous_total == sum(previous.values()), series.query


async def test_known_numbers_and_the_traps(archive_app: App) -> None:
    """Guards the independent count itself: both languages, compounds, and the traps that must not count."""
    report = await archive_app.services.trends.report(
        ["Putin", "Kim", "Waffendeal"], 30, until=TODAY
    )
    putin, kim, deal = report.series
    # 10 Jun (en), 19 Jun (de), 20 Jun ("Kreml-Chef", written apart), 28 Jun; not 12 Jun ("former Russian
    # President"), and 25 May belongs to the previous period
    assert sorted(d.day for d, n in putin.daily.items() if n) == [10, 19, 20, 28]
    assert putin.previous_total == 1
    assert kim.total == 3  # Kim Kardashian on 12 Jun does not count
    assert kim.daily[TODAY.replace(day=12)] == 0
    assert deal.total == 3  # "Milliardenwaffendeal" (de compound) and "arms deal" (en) twice
    treffen = (await archive_app.services.trends.report(["Treffen"], 30, until=TODAY)).series[0]
    # "Gipfeltreffen" closes a compound (found by substring, confirmed by the matcher); "Betreffend" is not it
    assert sorted(d.day for d, n in treffen.daily.items() if n) == [20, 25, 28]


async def test_entities_named_alongside(archive_app: App) -> None:
    putin = (await archive_app.services.trends.report(["Putin"], 30, until=TODAY, lang="de")).series[0]
    named = dict(putin.co_mentions)
    assert named["Kim Jong-un"] == 3
    assert named["Nordkorea"] >= 3
    assert "Wladimir Putin" not in named  # the query itself is not its own company


async def test_weekly_beyond_ninety_days(archive_app: App) -> None:
    series = (await archive_app.services.trends.report(["Putin"], 365, until=TODAY)).series[0]
    points = series.points()
    assert all(day.weekday() == 0 for day, _ in points)
    assert sum(n for _, n in points) == series.total == 5
