"""A small bilingual fixture archive for trend tests, and an independent count of what matches.

The independent count asks the MatchEngine about every article, one by one, as a subscription would; the
trend service must arrive at the same numbers from its stored entity keys and full-text narrowing.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from bot.core.matching import MatchEngine

TODAY = date(2024, 6, 30)
NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FixtureArticle:
    day: date
    lang: str
    title: str
    body: str

    def seed(self) -> str:
        return f"date {self.day.isoformat()}\n{self.title}\n\n{self.body}\n"

    @property
    def text(self) -> str:
        return f"{self.title}\n\n{self.body}"


ARTICLES = tuple(
    FixtureArticle(entry["day"], entry["lang"], entry["title"], entry["body"])
    for entry in tomllib.loads(Path(__file__).with_suffix(".toml").read_text(encoding="utf-8"))["article"]
)

QUERIES = ("Putin", "Kim", "Waffendeal", "Putin AND Kim", "Putin -Kim", "Putin OR arms deal", "Treffen",
           "Treffen AND Putin")


def write_seeds(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for number, article in enumerate(ARTICLES):
        (folder / f"{number:03d}.txt").write_text(article.seed(), encoding="utf-8")
    return folder


def independent_counts(engine: MatchEngine, query: str, start: date, end: date) -> Counter[date]:
    """Articles per day from ``start`` to ``end`` that the engine says ``query`` matches."""
    return Counter(
        a.day for a in ARTICLES if start <= a.day <= end and engine.match(query, a.text, a.lang).matched
    )
