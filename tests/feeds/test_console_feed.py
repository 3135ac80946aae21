"""Issue 8's check as a user sees it: in the console chat, /addfeed a local feed, then a new item alerts."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from bot.app import running_app
from bot.core.clock import FakeClock
from config.settings import FeedSettings, Settings
from tests.conftest import SEEDS
from tests.feeds.conftest import START
from tests.feeds.feedserver import FeedServer, Route
from tests.feeds.samples import rss
from tests.feeds.test_handlers import OLD_STORY, PUTIN_STORY


async def test_console_addfeed_shows_the_alert_for_a_new_item(tmp_path: Path, server: FeedServer) -> None:
    settings = Settings(  # type: ignore[call-arg]
        db_path=tmp_path / "news.db",
        seeds_dir=SEEDS,
        feeds=FeedSettings(allow_private_hosts=True, timeout_seconds=5),
        _env_file=None,
    )
    out = io.StringIO()
    clock = FakeClock(START)
    async with running_app(settings, clock=clock, console=True, stdin=io.StringIO(), stdout=out, run_jobs=False) as app:
        assert app.console is not None and app.services.feeds is not None
        await app.console.handle("subscribe", "Putin")
        server.routes["/feed.xml"] = Route(rss([OLD_STORY], title="Ostsee-Ticker"))
        await app.console.handle("addfeed", server.url("/feed.xml"))
        assert "Added feed 1: Ostsee-Ticker" in out.getvalue()

        server.routes["/feed.xml"] = Route(rss([PUTIN_STORY, OLD_STORY], title="Ostsee-Ticker"))
        clock.advance(timedelta(minutes=10))
        await app.services.feeds.poll_due()
        await app.services.delivery.flush()
    shown = out.getvalue().split("Added feed 1", 1)[1]
    assert "Putin trifft Kim in Wladiwostok" in shown
    assert "\n• " in shown
    assert "Werft" not in shown  # the first poll's backlog is archived without alerting
