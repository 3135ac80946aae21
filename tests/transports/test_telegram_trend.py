"""End to end: ``/trend Putin`` from a Telegram user through the real application (storage, trends, chart)
arrives at the local Bot API server as ``sendPhoto`` with the HTML caption."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import running_app
from bot.core.clock import FakeClock
from config.settings import Settings, TelegramSettings
from tests.telegram_server import BotApiServer
from tests.trends.archive import NOW, write_seeds
from tests.trends.test_chart import png_size

pytestmark = pytest.mark.telegram


async def test_trend_arrives_as_a_photo_with_the_html_caption(tmp_path: Path) -> None:
    async with BotApiServer() as server:
        telegram = TelegramSettings(  # type: ignore[call-arg]
            token=server.token,
            api_base_url=f"http://127.0.0.1:{server.port}/bot",
            file_base_url=f"http://127.0.0.1:{server.port}/file/bot",
            poll_timeout=5,
        )
        settings = Settings(  # type: ignore[call-arg]
            db_path=tmp_path / "db.sqlite", seeds_dir=write_seeds(tmp_path / "seeds"), telegram=telegram,
            _env_file=None,
        )
        # the fixture archive (Putin in four articles of the last 30 days, one before) is loaded as seeds
        async with running_app(settings, clock=FakeClock(NOW), run_jobs=False):
            ann = server.add_user(7, "Ann", language_code="en")
            chat = server.private_chat(ann)
            server.user_sends(chat, ann, "/trend Putin")
            [photo] = await server.wait_for_bot_messages(chat, within=60)
    [call] = server.calls_to("sendPhoto")
    assert photo.parse_mode == "HTML"
    caption = photo.caption or ""
    assert caption.startswith("Articles of the last 30 days (up to Jun 30, 2024)"), caption
    assert "Putin: 4 articles" in caption and "Most named with Putin: Kim Jong-un 3" in caption
    assert {"type": "bold", "offset": caption.index("Putin:"), "length": len("Putin")} in (
        photo.caption_entities or []
    ), photo.caption_entities
    [size] = photo.photo or []
    assert (size["width"], size["height"]) == (1200, 675)
    assert png_size(server.files[size["file_id"]].content) == (1200, 675)  # the chart itself, a real PNG
    assert call.params.get("parse_mode") == "HTML"
