"""``newsalert trend``: the same numbers as JSON, the chart as a file, clear errors."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path

import pytest

from bot.app import running_app
from bot.cli import main
from bot.core.clock import FakeClock
from bot.core.matching import MatchEngine
from config.settings import Settings
from tests.trends.archive import ARTICLES, NOW, TODAY, independent_counts
from tests.trends.test_chart import png_size


@pytest.fixture
async def archive_db(trend_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fixture archive stored by the app (seeds: nothing indexed yet, so the command catches up)."""
    async with running_app(trend_settings, clock=FakeClock(NOW), run_jobs=False) as app:
        await app.services.trends.stop()
    monkeypatch.setenv("NEWSALERT_DB_PATH", str(trend_settings.db_path))
    monkeypatch.setenv("NEWSALERT_SEEDS_DIR", str(trend_settings.seeds_dir))
    return trend_settings.db_path


async def _run(argv: list[str]) -> int:
    return await asyncio.to_thread(main, argv)  # the CLI runs its own event loop


async def test_json_prints_the_numbers_behind_the_chart(archive_db: Path, capsys: pytest.CaptureFixture) -> None:
    code = await _run(["trend", "Putin,", "Treffen", "--days", "30", "--until", TODAY.isoformat(), "--json"])
    printed = json.loads(capsys.readouterr().out)
    assert code == 0 and list(printed) == ["Putin", "Treffen"]
    engine = MatchEngine.load()
    for query, days in printed.items():
        assert len(days) == 30
        start = min(days)
        expected = independent_counts(engine, query, date.fromisoformat(start), TODAY)
        assert {d: n for d, n in days.items() if n} == {d.isoformat(): n for d, n in expected.items()}
    assert sum(printed["Putin"].values()) == 4 < len(ARTICLES)


async def test_the_chart_goes_to_a_file_and_the_caption_to_stdout(
    archive_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out" / "putin.png"
    code = await _run(["trend", "Putin", "--until", TODAY.isoformat(), "--out", str(out), "--lang", "de"])
    printed = capsys.readouterr().out
    assert code == 0 and png_size(out.read_bytes()) == (1200, 675)
    assert "Artikel der letzten 30 Tage" in printed and f"chart (1200×675): {out.resolve()}" in printed


async def test_no_match_and_bad_input(archive_db: Path, capsys: pytest.CaptureFixture) -> None:
    assert await _run(["trend", "Obama", "--until", TODAY.isoformat()]) == 1
    assert "No article of the last 30 days matches Obama." in capsys.readouterr().out
    assert await _run(["trend", "Putin", "--days", "0"]) == 2
    assert "1 to 3660 days" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:  # argparse: the usage line and one error line
        await _run(["trend", "Putin", "--until", "yesterday"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "not a date" in err and "Traceback" not in err
