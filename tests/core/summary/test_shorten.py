"""Shortening to the budget: at a clause boundary, with "…", never mid-word."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.summary.shorten import shorten
from bot.core.summary.text import words

LONG_DE = (
    "Demnach wird das Treffen zwischen den beiden Machthabern am Rande des Östlichen Wirtschaftsforums "
    "stattfinden, das vom 10. bis zum 13. September in Wladiwostok stattfinden soll, wie die Zeitung schrieb."
)
LONG_EN = (
    "While pinpointing several areas in which there are difficulties in the bilateral and multilateral work "
    "with Russia, the US said the meeting was much more efficient than we have seen for some time."
)


def test_a_short_sentence_is_kept() -> None:
    assert shorten("Kim reist nach Russland.", 200) == "Kim reist nach Russland."


def test_german_sentence_is_cut_at_a_clause_boundary() -> None:
    result = shorten(LONG_DE, 150)
    assert result == (
        "Demnach wird das Treffen zwischen den beiden Machthabern am Rande des Östlichen Wirtschaftsforums "
        "stattfinden…"
    )


def test_english_sentence_is_cut_at_a_clause_boundary() -> None:
    result = shorten(LONG_EN, 140)
    assert result.endswith("…") and len(result) <= 140
    assert result == (
        "While pinpointing several areas in which there are difficulties in the bilateral and multilateral "
        "work with Russia…"
    )


def test_without_clause_boundary_the_cut_is_between_words() -> None:
    text = "Alpha beta gamma delta epsilon zeta eta theta iota kappa lambda my ny xi omikron pi rho sigma tau"
    result = shorten(text, 40)
    assert result == "Alpha beta gamma delta epsilon zeta eta…"


def test_dangling_function_words_and_open_brackets_are_dropped() -> None:
    text = "The minister (who had been in office for years and years) resigned and the party was left without a head"
    result = shorten(text, 75)
    assert result == "The minister…" or not result.rstrip("…").endswith((" and", " the", " a", "("))
    assert result.count("(") == result.count(")")


def test_brackets_go_before_anything_is_cut() -> None:
    text = (
        "In einem Interview erklärte der Direktor der Internationalen Atomenergie-Organisation (IAEO), Mohammed "
        "el-Baradei, Nordkorea besitze seiner Meinung nach vier bis sechs Atomwaffen und noch viel mehr."
    )
    result = shorten(text, len(text) - 5)
    assert "(IAEO)" not in result and result.endswith("vier bis sechs Atomwaffen und noch viel mehr.")


def test_closing_attribution_goes_before_anything_is_cut() -> None:
    text = (
        "Das Kernthema seines Treffens mit Kremlchef Wladimir Putin werde ein Waffendeal zwischen Pjöngjang "
        "und Moskau sein, schrieb die Zeitung am Montagabend unter Berufung auf Beamte."
    )
    result = shorten(text, 130)
    assert result == (
        "Das Kernthema seines Treffens mit Kremlchef Wladimir Putin werde ein Waffendeal zwischen Pjöngjang "
        "und Moskau sein."
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["Kim", "reist", "nach", "Russland,", "und", "(NYT)", "Munition;", "–", "the", "8.000"]),
             min_size=1, max_size=60).map(" ".join),
    st.integers(min_value=10, max_value=200),
)
def test_result_fits_and_keeps_whole_words(text: str, budget: int) -> None:
    result = shorten(text, budget)
    assert len(result) <= budget
    assert set(words(result)) <= set(words(text))
    if len(text) <= budget:
        assert result == text.strip()


LATE_NAME = (
    "Der Kreml hat mitgeteilt, dass die Gespräche über die militärische Zusammenarbeit zwischen den beiden "
    "Nationen in den kommenden Wochen und Monaten intensiv fortgesetzt werden sollen, so ein Sprecher von "
    "Wladimir Putin."
)


def test_keep_prefers_a_form_that_still_names_the_focus() -> None:
    plain = shorten(LATE_NAME, 200)
    assert "Putin" not in plain  # the closing attribution went first
    kept = shorten(LATE_NAME, 200, keep=lambda s: "Putin" in s)
    assert len(kept) <= 200 and kept.endswith("so ein Sprecher von Wladimir Putin.")
    assert " … " in kept and kept.startswith("Der Kreml hat mitgeteilt, dass die Gespräche")


def test_keep_that_nothing_passes_gives_the_plain_form() -> None:
    assert shorten(LATE_NAME, 200, keep=lambda s: "Merkel" in s) == shorten(LATE_NAME, 200)


def test_punctuation_beats_a_conjunction_that_only_joins_two_words() -> None:
    text = (
        "Ein LKW einer Spedition aus Dannstadt transportierte zwölf Fässer mit je 200 Litern des hochgiftigen "
        "und explosiven Solvenon sowie ein für Wasserorganismen hochgiftiges Granulat von Belgien nach "
        "Bischofsheim im Kreis Groß-Gerau."
    )
    result = shorten(text, 160)
    assert result == (
        "Ein LKW einer Spedition aus Dannstadt transportierte zwölf Fässer mit je 200 Litern des hochgiftigen "
        "und explosiven Solvenon…"
    )
