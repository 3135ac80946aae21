from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.matching import MatchEngine, QueryError
from bot.core.matching.query import And, Not, Or, Term, parse_query


def test_adjacent_words_form_one_term() -> None:
    assert parse_query("Kim Jong-Un") == Term("Kim Jong-Un")
    assert parse_query("arms deal") == Term("arms deal")


def test_operators_phrases_and_parentheses() -> None:
    assert parse_query("Putin AND Kim") == And((Term("Putin"), Term("Kim")))
    assert parse_query('"arms deal" -Ukraine') == And((Term("arms deal", quoted=True), Not(Term("Ukraine"))))
    assert parse_query("(Putin OR Xi) NOT Ukraine") == And((Or((Term("Putin"), Term("Xi"))), Not(Term("Ukraine"))))
    assert parse_query("Putin UND Kim") == And((Term("Putin"), Term("Kim")))
    assert parse_query("„Waffen Deal“") == Term("Waffen Deal", quoted=True)
    assert parse_query('Putin -"arms deal"') == And((Term("Putin"), Not(Term("arms deal", quoted=True))))
    assert parse_query("Putin -(Ukraine OR Biden)") == And((Term("Putin"), Not(Or((Term("Ukraine"), Term("Biden"))))))


def test_lowercase_and_is_part_of_a_phrase() -> None:
    assert parse_query("Tom and Jerry") == Term("Tom and Jerry")


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("-Ukraine", "almost every article"),
        ("NOT Putin", "almost every article"),
        ("Putin AND", "ends with an operator"),
        ("AND Putin", "needs a term"),
        ("(Putin", "not closed"),
        ("Putin)", "without an opening"),
        ('"arms deal', "not closed"),
        ("()", "empty parentheses"),
        ("Putin - Kim", "minus sign"),
        ("x" * 400, "too long"),
        ("the", "too common"),
        ("!!!", "no letters"),
    ],
)
def test_malformed_queries_get_a_sentence(engine: MatchEngine, query: str, fragment: str) -> None:
    with pytest.raises(QueryError) as caught:
        engine.resolve(query)
    message = str(caught.value)
    assert fragment in message
    assert (message[0].isupper() or message[0] == "“") and message.endswith((".", ")"))


@given(st.text(max_size=60))
def test_any_input_is_a_query_or_a_query_error(query: str) -> None:
    with contextlib.suppress(QueryError):
        parse_query(query)
