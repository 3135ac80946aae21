"""The fast paths of normalize_text against the character table they stand in for."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.core.matching.normalize import _FOLD, _GERMAN_CHARS, _fold_by_replacing, normalize_text

# German letters and quotes, other Latin diacritics, a combining mark, ligatures, and characters that fold
# to non-ASCII (Greek µ, Cyrillic) or to ASCII punctuation the byte table turns into a space (fullwidth !)
_ALPHABET = _GERMAN_CHARS + "ab Z1'\n’ʼçłøæœ\u0301\u00b5Дж！ﬁ²€…«»"


def _odd(text: str) -> set[str]:
    return {c for c in text if len(_FOLD[ord(c)]) != 1}


@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_replacing_folds_exactly_like_the_table(text: str) -> None:
    replaced = _fold_by_replacing(text)
    if replaced is None:  # only when some character folds to other than ASCII
        assert not text.translate(_FOLD).isascii()
        return
    folded, odd = replaced
    assert folded == text.translate(_FOLD)
    assert sorted(odd) == sorted(_odd(text))  # each odd character once


@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_offsets_of_a_replaced_text_are_those_of_the_table(text: str) -> None:
    normal = normalize_text(text)
    assert normal.aligned == (not _odd(text))
    # the same text normalised without the characters found by replacing: source_span from set(source)
    reference = type(normal)(normal.text, text, normal.aligned)
    for start in range(len(normal.text) + 1):
        for end in range(start, min(len(normal.text), start + 4) + 1):
            assert normal.source_span(start, end) == reference.source_span(start, end)


def test_a_german_article_folds_without_the_table() -> None:
    text = "Größere Übel „drohen“ – Ärger in Köln"
    folded, odd = _fold_by_replacing(text) or ("", "")
    assert folded == "groessere uebel  drohen    aerger in koeln"
    assert set(odd) == {"ö", "ß", "Ü", "Ä"}
    assert not normalize_text(text).aligned
    assert normalize_text("Das „Dach“ – hier").aligned  # quotes and dashes fold to one space each


def test_a_character_folding_to_non_ascii_leaves_the_text_to_the_table() -> None:
    assert _fold_by_replacing("Größe µm") is None
    assert normalize_text("Größe µm").text == "groesse μm"


def _owners(text: str) -> list[int]:
    """Per normalised position the source index of the character whose folding holds it, and the source's
    end after the last: the per-character table source_span stands in for."""
    owners = [index for index, char in enumerate(text) for _ in _FOLD[ord(char)]]
    return [*owners, len(text)]


@given(st.text(alphabet=_ALPHABET, max_size=40), st.data())
def test_source_span_is_the_per_character_table(text: str, data: st.DataObject) -> None:
    normal = normalize_text(text)
    owners = _owners(text)
    assert len(owners) == len(normal.text) + 1
    for _ in range(8):
        start = data.draw(st.integers(0, len(normal.text)))
        end = data.draw(st.integers(start, len(normal.text)))
        expected_start = owners[start]
        expected = (expected_start, expected_start) if end == start else (expected_start, owners[end - 1] + 1)
        assert normal.source_span(start, end) == expected
