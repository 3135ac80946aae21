from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.core.matching import LexiconError, MatchEngine
from bot.core.matching.lexicon import Lexicon

G20_AND_UNSC = [
    "Argentina",
    "Australia",
    "Brazil",
    "Canada",
    "China",
    "France",
    "Germany",
    "India",
    "Indonesia",
    "Italy",
    "Japan",
    "Mexico",
    "Russia",
    "Saudi Arabia",
    "South Africa",
    "South Korea",
    "Turkey",
    "United Kingdom",
    "United States",
    "European Union",
    "African Union",
    "Albania",
    "Ecuador",
    "Gabon",
    "Ghana",
    "Malta",
    "Mozambique",
    "Switzerland",
    "United Arab Emirates",
    "Algeria",
    "Guyana",
    "Sierra Leone",
    "Slovenia",
]


def test_lexicon_size_and_coverage(engine: MatchEngine) -> None:
    kinds = Counter(entry.kind for entry in engine.lexicon.entries.values())
    assert sum(n for kind, n in kinds.items() if kind != "topic") >= 150
    assert kinds["topic"] >= 30
    for name in G20_AND_UNSC:
        assert engine.resolve(name).key.startswith("entity:"), name
    for entry in engine.lexicon.entries.values():
        assert set(entry.names) == {"en", "de"}, entry.id


def test_every_entry_matches_its_own_names(engine: MatchEngine) -> None:
    for entry in engine.lexicon.entries.values():
        for name in entry.names.values():
            result = engine.match(f'"{name}"', f"Heute: {name}.")
            assert result.matched, (entry.id, name)


def test_broken_lexicon_files_are_reported_clearly(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('[[entity]]\nid = "x"\nkind = "person"\nen = "X"\ncontext = ["nobody"]\n')
    with pytest.raises(LexiconError, match="unknown context"):
        Lexicon.load(tmp_path)
    (tmp_path / "a.toml").write_text("[[entity]\n")
    with pytest.raises(LexiconError, match=r"a\.toml"):
        Lexicon.load(tmp_path)
    (tmp_path / "a.toml").write_text('[[entity]]\nid = "x"\nkind = "planet"\nen = "X"\n')
    with pytest.raises(LexiconError, match="kind"):
        Lexicon.load(tmp_path)
