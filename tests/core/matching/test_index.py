from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.matching import MatchEngine, QueryError, SubscriptionIndex

QUERIES = [
    "Putin",
    "Kim",
    "Kim Jong-Un",
    "arms deal",
    "Nordkorea",
    "Russia",
    "Putin AND Kim",
    "Putin -Ukraine",
    '"arms deal" -Ukraine',
    "(Xi OR Putin) AND Kim",
    "Wladiwostok",
    "Treffen",
    "Borussia",
    "Ukraine war",
    "NOT Ukraine AND Russia",
    "Putin OR Biden",
]
TEXTS = [
    "Kremlchef Wladimir Putin empfing am Dienstag den Gast aus Pjöngjang.",
    "Das Treffen zwischen Putin und Kim soll in Wladiwostok stattfinden.",
    "Putin sprach über den Krieg in der Ukraine.",
    "Borussia Dortmund won 3-1 in the Bundesliga.",
    "Kim Kardashian launched a new fashion line in Los Angeles.",
    "Russia and North Korea discussed an arms deal at a summit in Vladivostok.",
    "Das Gipfeltreffen in Moskau: Russland will mehr Munition.",
    "",
]


def test_index_agrees_with_single_query_matching(engine: MatchEngine) -> None:
    index = SubscriptionIndex(engine)
    for number, query in enumerate(QUERIES):
        index.add(number, query)
    assert len(index) == len(QUERIES)
    for text in TEXTS:
        found = index.match(text)
        expected = {n for n, q in enumerate(QUERIES) if engine.match(q, text).matched}
        assert set(found) == expected, text
        for number, result in found.items():
            assert result == engine.match(QUERIES[number], text)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(QUERIES), min_size=1, max_size=12),
    st.lists(st.integers(min_value=0, max_value=11), max_size=6),
    st.sampled_from(TEXTS),
)
def test_add_and_remove_in_any_order(engine: MatchEngine, added: list[str], removed: list[int], text: str) -> None:
    index = SubscriptionIndex(engine)
    for key, query in enumerate(added):
        index.add(key, query)
    index.match(text)  # build, then change: the automaton must be rebuilt
    for key in removed:
        index.remove(key)
    live = {k: q for k, q in enumerate(added) if k not in removed}
    assert len(index) == len(live)
    expected = {k for k, q in live.items() if engine.match(q, text).matched}
    assert set(index.match(text)) == expected


def test_same_query_text_shares_one_compiled_query(engine: MatchEngine) -> None:
    index = SubscriptionIndex(engine)
    index.add("chat-1", "Putin")
    index.add("chat-2", "putin")
    index.add("chat-3", "Wladimir Putin")
    result = index.match("Putins Sprecher schwieg.")
    assert set(result) == {"chat-1", "chat-2", "chat-3"}
    assert len({id(r) for r in result.values()}) == 1
    index.remove("chat-1")
    assert set(index.match("Putins Sprecher schwieg.")) == {"chat-2", "chat-3"}


def test_free_text_terms_are_forgotten_when_unused(engine: MatchEngine) -> None:
    index = SubscriptionIndex(engine)
    index.add(1, "Chabarowsk")
    assert set(index.match("Khabarovsk is cold.")) == {1}
    index.remove(1)
    assert index.match("Khabarovsk is cold.") == {}
    index.add(2, "Schoigu -Ukraine")
    assert set(index.match("Shoigu visited Pyongyang.")) == {2}


def test_re_adding_a_key_replaces_its_query(engine: MatchEngine) -> None:
    index = SubscriptionIndex(engine)
    index.add(1, "Putin")
    index.add(1, "Kim Jong-Un")
    assert len(index) == 1
    assert index.match("Putin spoke.") == {}
    assert set(index.match("Kim Jong Un spoke.")) == {1}


def test_bad_query_leaves_the_index_unchanged(engine: MatchEngine) -> None:
    index = SubscriptionIndex(engine)
    index.add(1, "Putin")
    with pytest.raises(QueryError):
        index.add(1, "(Putin")
    assert set(index.match("Putin spoke.")) == {1}
    index.remove("never added")  # unknown keys are ignored


def test_compound_tails_follow_subscription_changes(engine: MatchEngine) -> None:
    index = SubscriptionIndex(engine)
    german = "Das Gipfeltreffen in der Stadt war kurz."
    index.add(1, "Putin")
    assert index.match(german) == {}
    index.add(2, "Treffen")
    assert set(index.match(german)) == {2}
    index.remove(2)
    assert index.match(german) == {}
    index.add(3, "Treffen -Putin")
    assert set(index.match(german)) == {3}


def test_an_excluded_term_blocks_only_the_queries_that_exclude_it(engine: MatchEngine) -> None:
    index = SubscriptionIndex(engine)
    index.add(1, "Putin -Ukraine")
    index.add(2, "Putin -Borussia")
    index.add(3, "Putin -Ukraine")  # the same query: one record, two subscribers
    assert set(index.match("Putin sprach über den Krieg in der Ukraine.")) == {2}
    index.remove(2)
    assert index.match("Putin sprach über den Krieg in der Ukraine.") == {}
    found = index.match("Putin sprach in Moskau.")
    assert set(found) == {1, 3} and found[1] is found[3]
    assert found[1].reason() == engine.match("Putin -Ukraine", "Putin sprach in Moskau.").reason()


def test_subscribers_of_one_query_share_one_explanation(engine: MatchEngine) -> None:
    """The pipeline writes one outbox row per chat: the reason text is built once per article and query."""
    index = SubscriptionIndex(engine)
    for chat in range(3):
        index.add(chat, "Putin")
    found = index.match("Kremlchef Wladimir Putin empfing den Gast.", "de")
    reasons = [found[chat].reason() for chat in range(3)]
    assert reasons[0] == "Wladimir Putin (Kremlchef, Wladimir Putin)"
    assert reasons[0] is reasons[1] is reasons[2]


def test_guarded_queries_follow_subscribers_added_and_removed_after_a_match(engine: MatchEngine) -> None:
    """The subscribers of "A -B" queries are kept as tables per A: a change after a match must show."""
    index = SubscriptionIndex(engine)
    index.add("a", "Putin -Ukraine")
    index.add("b", "Putin -Kim")
    plain, with_kim = "Putin empfing den Gast.", "Putin empfing Kim."
    assert set(index.match(plain)) == {"a", "b"}
    index.add("c", "Putin -Ukraine")  # a new subscriber of a query already in the tables
    index.add("d", "Putin -Kim -Ukraine")  # a new query of the same A
    assert set(index.match(plain)) == {"a", "b", "c", "d"}
    assert set(index.match(with_kim)) == {"a", "c"}
    assert set(index.match("Putin sprach über die Ukraine.")) == {"b"}
    index.remove("a")
    index.remove("b")
    assert set(index.match(with_kim)) == {"c"}
    index.remove("c")
    index.remove("d")
    assert index.match(plain) == {}


def test_removing_every_subscription_frees_what_they_registered(engine: MatchEngine) -> None:
    """One-term queries keep no record of their own and multi-term ones share tables: after the last
    subscriber of each is gone, the index and its scanner hold exactly what an empty index holds, and the
    automaton's freed slots are reused rather than grown."""
    index, empty = SubscriptionIndex(engine), SubscriptionIndex(engine)
    queries = [*QUERIES, "Tran", "tran", "Tran -Putin", "sober phenomena AND Tran", '"helmet ensuring"', "Munition"]
    for key, query in enumerate(queries * 2):
        index.add(key, query)
    index.match("Tran spoke of sober phenomena.")  # builds the automaton
    slots = len(index._scanner._heads.values)
    assert set(index.match("Tran said Putin was wrong.")) >= {queries.index("Tran"), queries.index("tran")}
    for key in range(len(queries) * 2):
        index.remove(key)
    assert index.match("Tran said Putin was wrong.") == {}
    assert sorted(index.surface_keys()) == sorted(empty.surface_keys())
    assert index._queries == {} and index._targets == {} and index._scanner._terms == {}
    assert index._scanner._term_targets == {} and not index._scanner._parts
    for key, query in enumerate(queries):
        index.add(key, query)
    index.match("warm-up")
    assert len(index._scanner._heads.values) == slots
