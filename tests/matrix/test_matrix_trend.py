"""End to end on Matrix: ``!trend Putin`` from a user on a real Synapse, through the real application,
arrives as an uploaded ``m.image`` (the 1200×675 chart) with its ``info`` and the caption."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from bot.app import running_app
from bot.core.clock import FakeClock
from config.settings import Settings
from tests.matrix.conftest import Accounts
from tests.matrix.synapse import SynapseServer
from tests.matrix.test_matrix_app import app_settings, dm_with_bot
from tests.matrix.user import UserClient
from tests.trends.archive import NOW, write_seeds

pytestmark = pytest.mark.matrix


def _settings(tmp_path: Path, synapse: SynapseServer, accounts: Accounts) -> Settings:
    # Putin in four articles of the last 30 days, one before
    return app_settings(tmp_path, synapse, accounts, seeds_dir=write_seeds(tmp_path / "seeds"))


async def test_trend_arrives_as_an_m_image_with_its_info(
    tmp_path: Path, synapse: SynapseServer, accounts: Accounts, alice: UserClient
) -> None:
    bot = accounts.bot.user_id
    async with running_app(_settings(tmp_path, synapse, accounts), clock=FakeClock(NOW), run_jobs=False):
        dm = await dm_with_bot(alice, bot)
        await alice.say(dm, "!trend Putin")
        event = await alice.wait_for(
            lambda rid, e: rid == dm and (e.get("content") or {}).get("msgtype") == "m.image", "the trend chart"
        )
        content = event["content"]
        answer = await alice.client.download(mxc=content["url"])
    png = answer.body
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (1200, 675)
    assert content["info"] == {"w": 1200, "h": 675, "size": len(png), "mimetype": "image/png"}
    assert event["sender"] == bot
    body = content["body"]
    assert body.startswith("Articles of the last 30 days (up to Jun 30, 2024)"), body
    assert "Putin: 4 articles" in body and "Most named with Putin: Kim Jong-un 3" in body
