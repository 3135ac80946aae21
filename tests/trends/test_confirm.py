"""The cheap confirmation (the query's own free-text terms plus the stored entity keys) decides every
article exactly as the full MatchEngine does, including the traps (a word inside a longer word, the wrong
Kim, compounds in German only)."""

from __future__ import annotations

import pytest

from bot.core.matching import MatchEngine
from bot.core.matching.keys import KeyScanner
from bot.core.trends import plan_query
from bot.core.trends.confirm import TextConfirmer
from tests.trends.archive import ARTICLES, QUERIES

EXTRA = ("arms deal", "Gipfel OR Kardashian", "Treffen -Kim", "Treffen AND Nordkorea", "Partnerschaft")


@pytest.fixture(scope="module")
def engine() -> MatchEngine:
    return MatchEngine.load()


@pytest.mark.parametrize("query", [*QUERIES, *EXTRA])
def test_confirmation_agrees_with_the_engine(engine: MatchEngine, query: str) -> None:
    plan = plan_query(engine.compile(query))
    scanner = KeyScanner(engine.lexicon)  # what ingest stores for each article
    stored = {i: set(scanner.keys(a.text, a.lang)) for i, a in enumerate(ARTICLES)}
    naming = {key: {i for i, keys in stored.items() if key in keys} for key in plan.keys}
    confirmer = TextConfirmer(plan, naming, engine)
    expected = [engine.match(query, a.text, a.lang).matched for a in ARTICLES]
    assert [confirmer.matches(i, a.text, a.lang) for i, a in enumerate(ARTICLES)] == expected
    assert any(expected)  # the check is not vacuous


def test_an_article_without_stored_keys_is_not_taken_as_naming_nothing(engine: MatchEngine) -> None:
    """Entities come from ``naming``: an id missing there reads as 'names no entity' — which is why the
    service hands unindexed articles to the engine instead."""
    plan = plan_query(engine.compile("Treffen AND Putin"))
    article = next(a for a in ARTICLES if engine.match("Treffen AND Putin", a.text, a.lang).matched)
    assert TextConfirmer(plan, {"entity:putin": {7}}, engine).matches(7, article.text, article.lang)
    assert not TextConfirmer(plan, {}, engine).matches(7, article.text, article.lang)
