"""The seed format and the shipped seed file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.core.ingest import iter_path, parse_seed_text

SHIPPED_SEED = Path(__file__).resolve().parents[3] / "seeds" / "000_a4bb6051e356c940.txt"


def test_header_on_its_own_line() -> None:
    seed = parse_seed_text("date 2023-09-04\nKim reist nach Russland.")
    assert (seed.body, seed.published, seed.warning) == ("Kim reist nach Russland.", date(2023, 9, 4), None)


def test_header_followed_by_text_on_the_same_line_with_leading_space() -> None:
    seed = parse_seed_text(" date 2023-09 Nordkoreas Diktator reist.")
    assert (seed.body, seed.published) == ("Nordkoreas Diktator reist.", date(2023, 9, 1))


def test_no_header() -> None:
    seed = parse_seed_text("Kim reist nach Russland.\n")
    assert (seed.body, seed.published, seed.warning) == ("Kim reist nach Russland.", None, None)


def test_prose_starting_with_date_is_not_a_header() -> None:
    text = "Date night is back in fashion, a survey of couples in London finds."
    assert parse_seed_text(text).body == text


def test_bad_and_impossible_headers_are_dropped_with_a_warning() -> None:
    bad = parse_seed_text("date 2023-13-45\nDer Artikel bleibt erhalten.")
    assert bad.body == "Der Artikel bleibt erhalten."
    assert bad.published is None
    assert "ignored bad date header '2023-13-45'" in (bad.warning or "")
    garbage = parse_seed_text("date soon\nDer Artikel bleibt erhalten.")
    assert garbage.body == "Der Artikel bleibt erhalten." and "soon" in (garbage.warning or "")
    impossible = parse_seed_text("date 2023-02-30\nText.")
    assert impossible.published is None and "no such date" in (impossible.warning or "")


def test_shipped_seed_parses_to_a_dated_german_article() -> None:
    [item] = list(iter_path(SHIPPED_SEED))
    assert item.status == "ok", item.reason
    draft = item.draft
    assert draft is not None
    assert draft.published == date(2023, 9, 1)
    assert draft.lang == "de"
    assert draft.title == "Nordkoreas Diktator Kim Jong-Un verlässt sein Land nur ungern"
    assert draft.body.startswith("Nordkoreas Diktator")
    assert "Das Wichtigste in Kürze" in draft.body
    assert "date 2023" not in draft.body
    assert draft.source == SHIPPED_SEED.name
    assert not draft.teaser_only
