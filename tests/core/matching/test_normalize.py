from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.core.lang import detect_language
from bot.core.matching.normalize import _FOLD, normalize, normalize_text


def test_case_umlauts_and_sharp_s_fold_together() -> None:
    assert normalize("Pjöngjang") == normalize("PJOENGJANG") == "pjoengjang"
    assert normalize("Straße") == normalize("STRASSE") == "strasse"
    assert normalize("Erdoğan") == "erdogan"


def test_nfkc_and_hyphens() -> None:
    assert normalize("Putin-Kim-Treffen") == "putin kim treffen"
    assert normalize("ｆｕｌｌｗｉｄｔｈ") == "fullwidth"
    assert normalize("Kim Jong‐un") == "kim jong un"  # Unicode hyphen


def test_quotes_are_not_apostrophes_but_possessives_stay_one_word() -> None:
    assert normalize("‘Putin’s war’") == "putin's war"
    assert normalize("Kims' missiles") == "kims missiles"


def test_offsets_map_back_to_the_source_through_expansions() -> None:
    text = "Die Größe von Pjöngjang"
    normal = normalize_text(text)
    start = normal.text.index("pjoengjang")
    src_start, src_end = normal.source_span(start, start + len("pjoengjang"))
    assert text[src_start:src_end] == "Pjöngjang"


@given(st.text(max_size=200))
def test_offsets_are_always_inside_the_source(text: str) -> None:
    normal = normalize_text(text)
    for start in range(0, len(normal.text), 7):
        end = min(len(normal.text), start + 5)
        if end > start:
            a, b = normal.source_span(start, end)
            assert 0 <= a <= b <= len(text)


def test_a_span_over_several_odd_characters_maps_back_to_its_source() -> None:
    text = "Die Größe der Übergrößen an der Straße"
    normal = normalize_text(text)
    start = normal.text.index("groesse")
    end = normal.text.index("strasse") + len("strasse")
    assert text[slice(*normal.source_span(start, end))] == "Größe der Übergrößen an der Straße"


@given(st.text(alphabet="abz ßäÖé\u0301æŒ", max_size=60))
def test_every_word_maps_back_to_the_source_it_folds_from(text: str) -> None:
    normal = normalize_text(text)
    for found in re.finditer(r"\S+", normal.text):
        src_start, src_end = normal.source_span(found.start(), found.end())
        assert normalize_text(text[src_start:src_end]).text.strip() == found.group()


def test_language_guess() -> None:
    assert detect_language("Das Treffen zwischen Putin und Kim soll stattfinden.") == "de"
    assert detect_language("The meeting will take place in Vladivostok next week.") == "en"


_REFERENCE_EDGE = re.compile(r"(?<![^\s'])'|'(?![^\s'])")  # the look-around rule the fast path replaces


@given(st.text(alphabet="ab1 '’`\n\té-ßäÄ\u0301", max_size=40))
def test_fast_paths_fold_exactly_like_the_character_table(text: str) -> None:
    """ASCII through the byte table, edge apostrophes found one by one, alignment decided by length:
    the same normalised text, and aligned exactly when every character folds to one."""
    normal = normalize_text(text)
    assert normal.text == _REFERENCE_EDGE.sub(" ", text.translate(_FOLD))
    assert normal.aligned == all(len(_FOLD[ord(c)]) == 1 for c in text)


def test_a_vanishing_mark_and_a_doubling_letter_do_not_pass_for_aligned() -> None:
    text = "Stra\u00dfe Cafe\u0301"  # ß folds to two characters, the combining accent to none: same length
    normal = normalize_text(text)
    assert len(normal.text) == len(text) and not normal.aligned
    start = normal.text.index("cafe")
    assert text[slice(*normal.source_span(start, start + 4))] == "Cafe"
