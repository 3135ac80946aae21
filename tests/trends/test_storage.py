"""The trend repository on both engines (SQLite and a throw-away PostgreSQL): the stored mentions, the
counts the database makes of them, and the full-text and substring candidate searches."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.core.models import ArticleDraft
from bot.core.trends import ArticleMentions
from bot.storage.store import Storage
from tests.pg import StorageBackend

NOW = datetime(2024, 6, 30, 12, tzinfo=UTC)
START, END = date(2024, 6, 1), date(2024, 6, 30)
DRAFTS = (
    ArticleDraft("Gipfeltreffen in Pjöngjang", "Kremlchef Putin traf Kim Jong-un.", "de", date(2024, 6, 19)),
    ArticleDraft("Cold war rhetoric", "The Kremlin spoke of a new cold war with the West.", "en", date(2024, 6, 20)),
    ArticleDraft("Kalter Krieg", "Die Rede vom kalten Krieg kehrt zurück.", "de", date(2024, 6, 21)),
    ArticleDraft("Treffen abgesagt", "Das TREFFEN der Minister fiel aus.", "de", date(2024, 5, 2)),  # before
    ArticleDraft("Undated meeting", "Ministers met; the date was not given.", "en", None),  # stored on Jun 30
)


@pytest.fixture
async def storage(storage_backend: StorageBackend) -> Storage:
    storage = await storage_backend.open()
    drafts = [(f"hash-{i}", d) for i, d in enumerate(DRAFTS)]
    ids = await storage.articles.insert_many(drafts, NOW)
    assert ids == [1, 2, 3, 4, 5]
    return storage


async def test_mentions_are_counted_by_day_and_a_repeat_changes_nothing(storage: Storage) -> None:
    trends = storage.trends
    assert await trends.pending_count() == 5 and await trends.pending_ids(2) == [1, 2]
    mentions = [
        ArticleMentions(1, date(2024, 6, 19), ("entity:kim_jong_un", "entity:putin")),
        ArticleMentions(2, date(2024, 6, 20), ("entity:putin",)),
        ArticleMentions(3, date(2024, 6, 21), ()),
    ]
    await trends.record(mentions)
    await trends.record(mentions[:1])  # matched again after an interruption
    assert await trends.pending_ids(10) == [4, 5]
    assert await trends.day_counts("entity:putin", START, END) == {date(2024, 6, 19): 1, date(2024, 6, 20): 1}
    assert await trends.naming("entity:putin", date(2024, 6, 20), END) == {2: "2024-06-20"}
    assert await trends.co_mentions_of_key("entity:putin", START, END) == {"entity:kim_jong_un": 1}
    assert await trends.co_mentions([1, 2, 3]) == {"entity:putin": 2, "entity:kim_jong_un": 1}
    await trends.reindex_after(1)
    assert await trends.pending_ids(10) == [2, 3, 4, 5]
    assert await trends.day_counts("entity:putin", START, END) == {date(2024, 6, 19): 1}


async def test_full_text_candidates_are_prefixes_in_the_period(storage: Storage) -> None:
    trends = storage.trends
    # "kalt*" AND "krieg*" or "cold*" AND "war*": both languages, inflected ("kalten"), case folded
    found = await trends.fts_candidates([("kalt", "krieg"), ("cold", "war")], START, END)
    assert found == {2: date(2024, 6, 20), 3: date(2024, 6, 21)}
    # diacritics folded as the index folds them; the undated article counts on the day it was stored
    assert await trends.fts_candidates([("pjongjang",)], START, END) == {1: date(2024, 6, 19)}
    assert await trends.fts_candidates([("meet",)], START, END) == {5: date(2024, 6, 30)}
    assert await trends.fts_candidates([("treffen",)], START, END) == {}  # only in May (and in a compound)


@pytest.mark.parametrize("words", [[("kalt'*) OR (\"war",)], [("NEAR(kalt",)], [("*",)], [()]])
async def test_user_text_is_never_query_syntax(storage: Storage, words: list[tuple[str, ...]]) -> None:
    found = await storage.trends.fts_candidates(words, START, END)
    assert set(found) <= {3}  # at most the words' letters taken as a prefix: no error, no widening


async def test_compound_tails_are_found_inside_german_words_ignoring_case(storage: Storage) -> None:
    trends = storage.trends
    assert await trends.tail_candidates(["treffen"], START, END) == {1: date(2024, 6, 19)}
    may = await trends.tail_candidates(["treffen"], date(2024, 5, 1), date(2024, 5, 31))
    assert may == {4: date(2024, 5, 2)}  # "TREFFEN" in capitals, too
    # a wildcard of the user's is dropped: what is left (nothing) is in every German article of the period
    assert await trends.tail_candidates(["%"], START, END) == {1: date(2024, 6, 19), 3: date(2024, 6, 21)}
    assert await trends.tail_candidates(["tr_ffen"], START, END) == {}  # "_" is no wildcard either
    assert await trends.tail_candidates(["war"], START, END) == {}  # English articles are not searched


async def test_texts_say_whether_the_keys_are_stored(storage: Storage) -> None:
    await storage.trends.record([ArticleMentions(2, date(2024, 6, 20), ())])
    texts = await storage.trends.texts([1, 2])
    assert sorted(texts) == [
        (1, "Gipfeltreffen in Pjöngjang\n\nKremlchef Putin traf Kim Jong-un.", "de", False),
        (2, "Cold war rhetoric\n\nThe Kremlin spoke of a new cold war with the West.", "en", True),
    ]


async def test_a_short_period_of_a_long_archive_finds_the_same_tails(storage: Storage) -> None:
    """Few of the archive's articles in the period: the date index is used instead of reading the whole
    table (SQLite); the answer must not depend on the way."""
    old = [
        (f"old-{n}", ArticleDraft(f"Krisentreffen {n}", "Ein Treffen.", "de", date(2020, 1, 1 + n % 28)))
        for n in range(60)
    ]
    await storage.articles.insert_many(old, NOW)
    assert await storage.trends.tail_candidates(["treffen"], START, END) == {1: date(2024, 6, 19)}
    january = await storage.trends.tail_candidates(["treffen"], date(2020, 1, 1), date(2020, 1, 31))
    assert len(january) == 60
