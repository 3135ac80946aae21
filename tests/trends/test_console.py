"""The console writes a chart to a file in charts/ beside the database and prints its path with the caption."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

from bot.app import running_app
from bot.core.clock import FakeClock
from config.settings import Settings
from tests.trends.archive import NOW
from tests.trends.test_chart import png_size


async def test_console_prints_the_chart_path_with_the_caption(trend_settings: Settings) -> None:
    stdin, stdout = io.StringIO("trend Putin, Kim\ntrend Obama\n"), io.StringIO()
    async with running_app(
        trend_settings, clock=FakeClock(NOW), console=True, stdin=stdin, stdout=stdout, run_jobs=False
    ) as app:
        assert app.console is not None
        await app.console.run()
    out = stdout.getvalue()
    found = re.search(r"\[image 1200×675: (.+\.png)\]\n", out)
    assert found, out
    path = Path(found.group(1))
    charts, data, files = await asyncio.to_thread(_look, trend_settings.db_path.parent / "charts", path)
    assert path.parent == charts
    assert png_size(data) == (1200, 675)
    caption = out[found.end() :]
    assert caption.startswith("Articles of the last 30 days") and "Kim: 3 articles" in caption
    assert "No article of the last 30 days matches Obama." in out
    assert files == 1  # the empty result wrote no file


def _look(charts: Path, path: Path) -> tuple[Path, bytes, int]:
    return charts.resolve(), path.read_bytes(), len(list(charts.iterdir()))
