"""Language detection and the date forms corpora use."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.core.ingest import detect_language, normalise_lang
from bot.core.ingest.dates import BadDate, parse_date


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Nordkoreas Diktator Kim Jong-Un verlässt sein Land nur ungern. Jetzt soll er nach Russland reisen.", "de"),
        ("North Korea's leader Kim Jong Un rarely leaves his country. Now he is said to travel to Russia.", "en"),
        ("Die Regierung hat am Montag beschlossen, dass die Steuern nicht erhöht werden.", "de"),
        ("The government decided on Monday that taxes will not be raised this year.", "en"),
    ],
)
def test_detects_german_and_english(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize(("text", "lang"), [("Kim trifft Putin", "de"), ("Putin meets Kim", "en")])
def test_short_texts_without_function_words_fall_back_to_the_dictionaries(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_a_declared_language_decides_only_what_the_text_leaves_open() -> None:
    german = "Die Regierung hat am Montag beschlossen, dass die Steuern nicht erhöht werden."
    assert detect_language(german, hint="en-US") == "de"  # a CMS default "en" does not win
    assert detect_language("Kim Jong-Un, Putin, Wladiwostok", hint="de-DE") == "de"
    assert detect_language("", hint="de") == "de"


def test_no_evidence_means_the_default() -> None:
    assert detect_language("") == "en"
    assert detect_language("12345 --- 678") == "en"
    assert detect_language("", default="de") == "de"


def test_long_texts_are_sampled_not_fully_scanned() -> None:
    text = "Die Regierung hat am Montag beschlossen, dass die Steuern steigen. " * 2000
    assert detect_language(text) == "de"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("de", "de"),
        ("de-DE", "de"),
        ("en_US", "en"),
        ("EN", "en"),
        ("German", "de"),
        ("", None),
        (None, None),
        (5, None),
    ],
)
def test_normalise_lang(value: object, expected: str | None) -> None:
    assert normalise_lang(value) == expected


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2005-08-20", date(2005, 8, 20)),
        ("2023-01-01 00:05:48+00:00", date(2023, 1, 1)),
        ("2023-01-01T23:30:00.123456-02:00", date(2023, 1, 2)),  # timestamps become UTC dates
        ("2023-09-04T10:00:00Z", date(2023, 9, 4)),
        ("2023-09", date(2023, 9, 1)),
        ("04.09.2023", date(2023, 9, 4)),
        ("2023/09/04", date(2023, 9, 4)),
        ("Mon, 04 Sep 2023 10:00:00 +0200", date(2023, 9, 4)),
        (1693814400, date(2023, 9, 4)),
        (1693814400000, date(2023, 9, 4)),
        (None, None),
        ("  ", None),
    ],
)
def test_date_forms(value: object, day: date | None) -> None:
    assert parse_date(value).day == day


def test_timestamps_keep_the_moment_in_utc() -> None:
    assert parse_date("2023-09-04T10:00:00+02:00").moment == datetime(2023, 9, 4, 8, tzinfo=UTC)
    assert parse_date("2023-09-04").moment is None


@pytest.mark.parametrize("value", ["yesterday", "2023-13-01", "31.02.2023", "0001-01-01", True, [2023], "2023-99"])
def test_bad_dates_raise_a_readable_error(value: object) -> None:
    with pytest.raises(BadDate) as caught:
        parse_date(value)
    assert "date" in str(caught.value)
