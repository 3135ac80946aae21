"""Extractive summaries: budget, focus, redundancy, teasers, and real articles from the shared corpora."""

from __future__ import annotations

import pytest

from bot.core.summary import summarize
from bot.core.summary.focus import keyword_focus

from .conftest import shared_records

WTO = (
    "Talks on Russia's proposed membership of the World Trade Organisation (WTO) have been \"making good "
    "progress\" say those behind the negotiations.\n\n"
    "But the chairman of the working party warned that there was still a lot of work to be done. His comments "
    "came as President George W Bush said the US backed Russian entry. His comments come three days before he "
    "is due to meet the Kremlin leader.\n\n"
    "Russia has been waiting for a decade to join the WTO and hopes to finally become a member by early 2006. "
    "A decision could be reached in December, when the WTO's 148 current members gather for a summit in Hong "
    "Kong. Some WTO members also dislike Russia's energy price subsidies."
)


def _kremlin(sentence: str) -> bool:
    """A focus test the way the matching engine answers it: an entity under any of its names."""
    return any(name in sentence for name in ("Putin", "Kremlin leader", "Kremlchef"))


def test_default_budget() -> None:
    bullets = summarize(WTO, lang="en")
    assert len(bullets) == 3
    assert all(len(b) <= 200 for b in bullets)
    assert "making good progress" in bullets[0]


def test_first_bullet_names_the_focus_under_another_surface_form() -> None:
    bullets = summarize(WTO, lang="en", focus=_kremlin)
    assert "Kremlin leader" in bullets[0]
    assert len(bullets) == 3


def test_focus_absent_from_the_article_gives_the_plain_summary() -> None:
    assert summarize(WTO, lang="en", focus=lambda s: "Merkel" in s) == summarize(WTO, lang="en")


def test_german_focus_via_keywords(seed_without_box: str) -> None:
    bullets = summarize(seed_without_box, lang="de", focus=keyword_focus("Kirby"))
    assert "Kirby" in bullets[0]


def test_redundant_sentences_are_not_both_chosen() -> None:
    text = (
        "The central bank raised interest rates to 5 percent on Thursday, the highest level in 15 years.\n\n"
        "On Thursday the central bank raised interest rates to 5 percent, the highest level in 15 years.\n\n"
        "Mortgage holders will pay about 200 pounds more each month, analysts at Barclays estimated.\n\n"
        "The government welcomed the decision and said inflation was now expected to fall next year."
    )
    bullets = summarize(text, lang="en")
    assert sum("raised interest rates" in b for b in bullets) == 1


def test_teaser_gives_one_bullet() -> None:
    teaser = "Kim Jong-Un will nach Russland reisen. Es geht um Waffen. Putin wartet in Wladiwostok."
    assert summarize(teaser, lang="de", teaser_only=True) == [teaser]
    long_teaser = "Kim Jong-Un will nach Russland reisen, sagen Beamte in Washington. " * 5
    bullets = summarize(long_teaser, lang="de", teaser_only=True, max_chars=120)
    assert len(bullets) == 1 and len(bullets[0]) <= 120


def test_teaser_with_focus_starts_at_the_sentence_naming_it() -> None:
    teaser = "Nordkorea rüstet auf. Der Kremlchef will Munition kaufen."
    assert summarize(teaser, lang="de", teaser_only=True, focus=_kremlin) == ["Der Kremlchef will Munition kaufen."]


def test_teaser_without_end_punctuation_still_gives_a_bullet() -> None:
    assert summarize("Kim Jong-Un reist nach Russland", teaser_only=True) == ["Kim Jong-Un reist nach Russland"]


@pytest.mark.parametrize("text", ["", "   \n\n ", "Foto: dpa", "Lesen Sie auch"])
def test_nothing_to_summarise(text: str) -> None:
    assert summarize(text) == []


def test_zero_bullets() -> None:
    assert summarize(WTO, max_bullets=0) == []


def test_a_long_lead_sentence_is_shortened_with_an_ellipsis() -> None:
    text = (
        "Der russische Präsident Wladimir Putin hat am 28. Dezember 2012 ein Gesetz unterzeichnet, durch das es "
        "US-Bürgern ab dem 1. Januar 2013 verboten ist, russische Kinder zu adoptieren, und das zugleich eine "
        "Liste unerwünschter Personen enthält.\n\nZuvor hatte das Parlament zugestimmt. Kritiker protestierten."
    )
    bullets = summarize(text, lang="de", max_chars=120)
    assert bullets[0].endswith("…") and len(bullets[0]) <= 120
    assert bullets[0].startswith("Der russische Präsident Wladimir Putin hat am 28. Dezember 2012 ein Gesetz")


@pytest.mark.parametrize(("name", "lang"), [("de_wikinews_qa.jsonl", "de"), ("en_bbc_2005.jsonl", "en")])
def test_real_articles_stay_in_budget(name: str, lang: str) -> None:
    for record in shared_records(name, 150):
        bullets = summarize(record["text"], lang=lang, title=record["title"])
        assert 1 <= len(bullets) <= 3, record["id"]
        assert all(0 < len(b) <= 200 and b == b.strip() for b in bullets), record["id"]
        assert len(set(bullets)) == len(bullets), record["id"]


def test_real_articles_lead_with_the_focus_whenever_a_sentence_names_it() -> None:
    checked = 0
    for record in shared_records("en_bbc_2005.jsonl", 2225):
        if "Putin" not in record["text"]:
            continue
        bullets = summarize(record["text"], lang="en", title=record["title"], focus=keyword_focus("Putin"))
        assert "Putin" in bullets[0], record["id"]
        checked += 1
    assert checked >= 5


def test_first_bullet_keeps_the_focus_name_when_shortened() -> None:
    text = (
        "Der Kreml hat mitgeteilt, dass die Gespräche über die militärische Zusammenarbeit zwischen den beiden "
        "Nationen in den kommenden Wochen und Monaten intensiv fortgesetzt werden sollen, so ein Sprecher von "
        "Wladimir Putin.\n\nNordkorea schweigt bisher zu allen Berichten über das Treffen."
    )
    bullets = summarize(text, lang="de", focus=_kremlin)
    assert "Putin" in bullets[0] and len(bullets[0]) <= 200
