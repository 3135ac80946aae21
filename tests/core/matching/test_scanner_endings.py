"""The scan loop's shortcut for words with an ending: a plain name that takes every ending is a hit at once,
and every other kind of pattern (exact forms, acronyms, a spelling shared by several patterns) still has its
own endings rule checked."""

from __future__ import annotations

from pathlib import Path

from bot.core.matching.lexicon import Lexicon
from bot.core.matching.scanner import Scanner

LEXICON = """
[[entity]]
id = "moskau"
kind = "city"
en = "Moscow"
de = "Moskau"

[[entity]]
id = "kreml"
kind = "organisation"
en = "Kremlin"
aliases = ["Kreml="]

[[entity]]
id = "nato"
kind = "organisation"
en = "NATO"

[[entity]]
id = "deal"
kind = "topic"
en = "arms deal"
aliases = ["deal="]

[[entity]]
id = "deal_any"
kind = "topic"
en = "deals"
aliases = ["deal"]
"""


def _present(tmp_path: Path, text: str, lang: str = "en") -> dict[str, list[str]]:
    (tmp_path / "lexicon.toml").write_text(LEXICON, encoding="utf-8")
    scanner = Scanner(Lexicon.load(tmp_path))
    scan = scanner.scan(text, lang)
    present = scanner.present(scan)
    return {scanner.entry_ids[t]: sorted(h.surface for h in hits) for t, hits in present.items()}


def test_a_plain_name_with_an_ending_is_a_hit_with_its_whole_word(tmp_path: Path) -> None:
    found = _present(tmp_path, "Moscow's answer came from Moscows of the mind.")
    assert found["moskau"] == ["Moscow's", "Moscows"]


def test_german_endings_count_only_in_german_text(tmp_path: Path) -> None:
    assert "moskau" not in _present(tmp_path, "The Moscowen delegation said little.")
    german = _present(tmp_path, "Die Reise nach Moskaus Vororten und die Moskauer Führung.", "de")
    assert german["moskau"] == ["Moskauer", "Moskaus"]


def test_an_exact_form_takes_only_a_possessive(tmp_path: Path) -> None:
    assert _present(tmp_path, "The Kreml's view.")["kreml"] == ["Kreml's"]
    assert "kreml" not in _present(tmp_path, "Two Kremls stood there.")


def test_an_acronym_is_checked_for_capitals_even_with_an_ending(tmp_path: Path) -> None:
    assert _present(tmp_path, "NATO's summit began.")["nato"] == ["NATO's"]
    assert "nato" not in _present(tmp_path, "Nato's summit began.")


def test_a_spelling_of_two_patterns_keeps_each_ones_endings_rule(tmp_path: Path) -> None:
    found = _present(tmp_path, "Several deals were signed.")
    assert found["deal_any"] == ["deals"]
    assert "deal" not in found  # its form "deal=" takes no plural
