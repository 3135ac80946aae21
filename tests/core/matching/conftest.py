"""One engine for the matching tests: loading the lexicon is the slow part."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.matching import MatchEngine

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


@pytest.fixture(scope="session")
def engine() -> MatchEngine:
    return MatchEngine.load()
