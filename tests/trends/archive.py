"""A small bilingual fixture archive for trend tests, and an independent count of what matches.

The independent count asks the MatchEngine about every article, one by one, as a subscription would; the
trend service must arrive at the same numbers from its stored entity keys and full-text narrowing.
"""

from __future__ import annotations

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


ARTICLES = (
    FixtureArticle(
        date(2024, 6, 19), "de", "Putin landet in Pjöngjang",
        "Kremlchef Wladimir Putin ist zu einem Staatsbesuch in Nordkorea eingetroffen. Machthaber Kim Jong-un "
        "empfing ihn am Flughafen der Hauptstadt. Beide Seiten wollen einen Vertrag über eine umfassende "
        "strategische Partnerschaft unterzeichnen, wie die staatliche Nachrichtenagentur berichtete.",
    ),
    FixtureArticle(  # a compound written apart names Putin ("Kreml|chef")
        date(2024, 6, 20), "de", "Neue Partnerschaft mit Nordkorea",
        "Der Kreml-Chef sprach von einer neuen Partnerschaft. Das Gipfeltreffen in der Hauptstadt dauerte "
        "zwei Tage, die Delegationen unterzeichneten mehrere Abkommen über Zusammenarbeit.",
    ),
    FixtureArticle(  # a compound that closes a longer word ("*Waffen|deal"), no Putin
        date(2024, 6, 20), "de", "Milliardenwaffendeal befürchtet",
        "Westliche Geheimdienste befürchten einen Milliardenwaffendeal zwischen Nordkorea und Russland. "
        "Betreffend die Lieferungen gab es zunächst keine Bestätigung aus Moskau oder aus Pjöngjang.",
    ),
    FixtureArticle(
        date(2024, 6, 10), "en", "Putin's visit to Pyongyang",
        "Russian President Vladimir Putin will travel to North Korea next week, the Kremlin said. Kim Jong-un "
        "is expected to welcome him at the airport, and an arms deal is said to be on the table.",
    ),
    FixtureArticle(  # traps: neither Kim Jong-un nor Putin, though "Kim" and "former Russian President" appear
        date(2024, 6, 12), "en", "Kim Kardashian launches a perfume",
        "Kim Kardashian launched a new perfume line in Los Angeles on Tuesday. At the party, the former "
        "Russian President Dmitry Medvedev was not among the guests, her company said.",
    ),
    FixtureArticle(  # the previous period
        date(2024, 5, 25), "de", "Putin in Peking",
        "Wladimir Putin ist zu Gesprächen mit Xi Jinping in Peking eingetroffen. Es geht um Handel und um "
        "die Lage in der Ukraine, teilte der Kreml mit.",
    ),
    FixtureArticle(
        date(2024, 6, 25), "en", "Arms deal worries Washington",
        "The arms deal between Russia and North Korea worries Washington. Officials said the treffen of "
        "the two delegations produced a partnership treaty that covers weapons and ammunition.",
    ),
    FixtureArticle(
        date(2024, 6, 28), "de", "Treffen in Wladiwostok",
        "Bei einem Treffen in Wladiwostok sprachen Vertreter beider Länder über Handel. Kim Jong-un war "
        "nicht dabei; Putin schickte seinen Außenminister.",
    ),
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
