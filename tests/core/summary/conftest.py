"""Shared material for the summary tests: the shipped seed and the shared corpora, read in place."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.core.ingest.seed import parse_seed_text

ROOT = Path(__file__).resolve().parents[3]
SHARED = ROOT.parent / "shared"
SEED = ROOT / "seeds" / "000_a4bb6051e356c940.txt"
BOX_ITEMS = [
    "Laut einem Bericht werden Kim Jong-Un und Wladimir Putin demnächst in Russland zusammenkommen.",
    "Bei ihrem Treffen werde unter anderem ein Waffendeal auf der Agenda stehen.",
    "Das Hauptanliegen Moskaus: mehr Munition und Waffen für den Ukraine-Krieg.",
]


@pytest.fixture
def seed_body() -> str:
    return parse_seed_text(SEED.read_text(encoding="utf-8")).body


@pytest.fixture
def seed_without_box(seed_body: str) -> str:
    """The seed with its "Das Wichtigste in Kürze" box (heading and the three items) cut out."""
    without = re.sub(r"Das Wichtigste in Kürze .*?(?=Nordkoreas Diktator Kim Jong-Un plant)", "", seed_body, flags=re.S)
    assert "Das Wichtigste" not in without and "Bei ihrem Treffen" not in without
    return without


def shared_records(name: str, limit: int) -> list[dict]:
    path = SHARED / "data" / name
    if not path.exists():
        pytest.skip(f"shared corpus {path} not available")
    records = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            records.append(json.loads(line))
            if len(records) >= limit:
                break
    return records
