"""Hit offsets in the source text, computed from the few characters that do not fold one to one, equal a
per-character table (the way they were computed before), for texts full of umlauts, ß, marks and ligatures."""

from __future__ import annotations

import random

import pytest

from bot.core.matching.normalize import _FOLD, normalize_text

ALPHABET = "abcXYZ äöüßÄÖÜ éè\u0301\u0308 æœø ﬁ ½ '’-\n1"


def table(source: str) -> list[int]:
    return [i for i, char in enumerate(source) for _ in range(len(_FOLD[ord(char)]))]


@pytest.mark.parametrize("seed", range(40))
def test_source_spans_equal_the_per_character_table(seed: int) -> None:
    rng = random.Random(seed)
    source = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 80)))
    normal = normalize_text(source)
    offsets = table(source)
    assert len(normal.text) == len(offsets)
    for start in range(len(offsets)):
        for end in range(start, min(len(offsets), start + 6) + 1):
            expected = (offsets[start], offsets[end - 1] + 1 if end > start else offsets[start])
            assert normal.source_span(start, end) == expected, (source, start, end)


def test_a_german_sentence() -> None:
    source = "Gipfeltreffen in Pjöngjang: Kim grüßt Putin"
    normal = normalize_text(source)
    begin = normal.text.index("putin")
    assert source[slice(*normal.source_span(begin, begin + 5))] == "Putin"
    begin = normal.text.index("gruesst")
    assert source[slice(*normal.source_span(begin, begin + 7))] == "grüßt"
