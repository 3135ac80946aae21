"""Small samples of the shared corpora, read in place (streamed: only the first lines are read)."""

from __future__ import annotations

from datetime import date
from itertools import islice

import pytest

from bot.core.ingest import ParsedItem, content_hash, iter_path
from tests.conftest import SHARED

DATA = SHARED / "data"


def _sample(name: str, count: int = 200) -> list[ParsedItem]:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"shared corpus {path} not available")
    return list(islice(iter_path(path), count))


def test_10kgnad_has_no_titles_or_dates_so_titles_come_from_the_lead() -> None:
    items = _sample("de_10kgnad_test.jsonl")
    assert all(item.status == "ok" for item in items), [i.describe() for i in items if i.status != "ok"]
    first = items[0].draft
    assert first is not None
    assert first.title.startswith("Die Gewerkschaft GPA-djp lanciert den")
    assert len(first.title) <= 120
    assert all(i.draft and i.draft.lang == "de" and i.draft.published is None and i.draft.title for i in items)
    assert first.guid == "gnad-test-0000"


def test_wikinews_keeps_titles_and_dates() -> None:
    items = _sample("de_wikinews_qa.jsonl")
    first = items[0].draft
    assert first is not None
    assert (first.title, first.published, first.lang, first.source) == (
        "Passagierflugzeug landete in Guam mit defektem Fahrwerk",
        date(2005, 8, 20),
        "de",
        "de.wikinews.org",
    )
    assert first.url == "https://de.wikinews.org/wiki/Passagierflugzeug_landete_in_Guam_mit_defektem_Fahrwerk"


def test_bbc_articles_are_full_english_texts() -> None:
    items = _sample("en_bbc_2005.jsonl")
    drafts = [item.draft for item in items if item.draft]
    assert len(drafts) == len(items)
    assert drafts[0].title == "Ad sales boost Time Warner profit"
    assert all(d.lang == "en" and not d.teaser_only for d in drafts)
    assert len({content_hash(d) for d in drafts}) == len(drafts)


def test_rss_corpus_lines_are_dated_teasers() -> None:
    items = _sample("en_rss_2023.jsonl.gz", 2000)
    drafts = [item.draft for item in items if item.draft]
    assert drafts[0].title == "Archbishop of Canterbury calls for leaders to fix social care"
    assert drafts[0].published == date(2023, 1, 1)
    assert drafts[0].source == "BBC News"
    assert sum(d.teaser_only for d in drafts) > 0.8 * len(drafts)
    rejected = [item for item in items if item.draft is None]
    assert all(item.reason.startswith(("no text", "text too short")) for item in rejected)
    assert all(item.source.startswith(str(DATA / "en_rss_2023.jsonl.gz:")) for item in items)
