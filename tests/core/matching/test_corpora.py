"""Precision traps and recall on the real corpora in ../shared/data (read in place)."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator

import pytest

from bot.core.matching import MatchEngine, SubscriptionIndex
from tests.core.matching.conftest import DATA

pytestmark = pytest.mark.skipif(not (DATA / "en_rss_2023.jsonl.gz").is_file(), reason="shared corpora not present")


def records(name: str, needle: str | None = None) -> Iterator[dict]:
    """Records of one corpus; with ``needle``, only lines containing it (cheap pre-filter before JSON)."""
    path = DATA / name
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if needle is None or needle in line.lower():
                yield json.loads(line)


def article(record: dict) -> str:
    return f"{record.get('title') or ''}\n\n{record.get('text') or ''}"


ALL = ["de_10kgnad_test.jsonl", "de_wikinews_qa.jsonl", "en_bbc_2005.jsonl", "en_rss_2023.jsonl.gz"]


@pytest.fixture(scope="module")
def index(engine: MatchEngine) -> SubscriptionIndex:
    index = SubscriptionIndex(engine)
    for query in ("Russia", "Putin", "arms deal", "Kim"):
        index.add(query, query)
    return index


@pytest.mark.parametrize("corpus", ALL)
def test_borussia_is_not_russia(index: SubscriptionIndex, corpus: str) -> None:
    russia = re.compile(r"\brussia|russland|russisch|russe|moskau|moscow|kreml|putin", re.IGNORECASE)
    for record in records(corpus, "borussia"):
        text = article(record)
        if not russia.search(text):
            assert "Russia" not in index.match(text, record.get("lang")), record["id"]


@pytest.mark.parametrize("corpus", ALL)
def test_computing_is_not_putin(index: SubscriptionIndex, corpus: str) -> None:
    for record in records(corpus, "computing"):
        text = article(record)
        if "putin" not in text.lower().replace("computing", ""):
            assert "Putin" not in index.match(text, record.get("lang")), record["id"]


@pytest.mark.parametrize("corpus", ["de_10kgnad_test.jsonl", "de_wikinews_qa.jsonl"])
def test_ceasefire_is_not_an_arms_deal(index: SubscriptionIndex, corpus: str) -> None:
    trade = re.compile(r"waffen(deal|geschäft|handel|kauf|verkauf|export)|rüstungs(deal|geschäft|export)", re.I)
    for record in records(corpus, "waffen"):
        text = article(record)
        if re.search(r"waffenstillstand|waffenruhe", text, re.I) and not trade.search(text):
            assert "arms deal" not in index.match(text, "de"), record["id"]


def test_kardashian_is_not_kim(index: SubscriptionIndex) -> None:
    for corpus in ALL:
        for record in records(corpus, "kardashian"):
            text = article(record)
            if "jong" not in text.lower() and "north korea" not in text.lower():
                assert "Kim" not in index.match(text, record.get("lang")), record["id"]


def test_recall_of_putin_on_rss(engine: MatchEngine) -> None:
    word = re.compile(r"\bputin\b", re.IGNORECASE)
    mentioning = [r for r in records("en_rss_2023.jsonl.gz", "putin") if word.search(article(r))]
    assert len(mentioning) > 1500
    found = sum(engine.match("Putin", article(r), "en").matched for r in mentioning)
    assert found / len(mentioning) > 0.99


def test_recall_of_kim_jong_un_on_rss(engine: MatchEngine) -> None:
    mentioning = [r for r in records("en_rss_2023.jsonl.gz", "kim jong") if "kim jong il" not in article(r).lower()]
    found = sum(engine.match("Kim", article(r), "en").matched for r in mentioning)
    assert found / len(mentioning) > 0.97
