"""German compound matching: only words that can hold a registered part are split, the candidate automaton
follows the registered parts, the word list loads only when needed, and the result is what splitting every
word would give (checked against that exhaustive rule on real German articles)."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from types import MappingProxyType

import pytest

from bot.core.matching import MatchEngine
from bot.core.matching.compounds import (
    MIN_ZIPF,
    CompoundMatcher,
    Decompounder,
    PartTable,
    Split,
    _wordfreq_words,
)
from bot.core.matching.lexicon import Form
from bot.core.matching.normalize import normalize, normalize_text
from bot.core.matching.scanner import ENDINGS_DE
from bot.core.matching.vocabulary import Vocabulary
from tests.core.matching.conftest import DATA

WORDS = ("Munition", "Fabrik", "Satellit", "Satelliten", "Bilder", "Gipfel", "Treffen", "Zug", "Wahl", "Tag", "Gas")
WORDS += ("Preise",)
LONG_WORD = re.compile(r"(?<![\w'])[a-z]{6,}(?![\w'])")  # the words a compound can be: a to z, six or more


@dataclass(frozen=True)
class Part:
    form: Form


def part(word: str, sense: frozenset[str] = frozenset()) -> Part:
    norm = normalize(word)
    return Part(Form(norm, word, "de", compound=True, sense=sense))


class CountingDecompounder(Decompounder):
    """Records every word actually split (the cache's misses)."""

    def __init__(self, words: dict[str, float] | None = None) -> None:
        super().__init__(words)
        self.split_words: list[str] = []

    def _splits(self, word: str) -> tuple[Split, ...]:
        self.split_words.append(word)
        return super()._splits(word)


def small_matcher(decompounder: Decompounder | None = None) -> CompoundMatcher:
    words = {normalize(w): 4.0 for w in WORDS}
    return CompoundMatcher(decompounder or Decompounder(words), Vocabulary(), frozenset(), ENDINGS_DE)


def found(matcher: CompoundMatcher, text: str, parts: Mapping[str, Sequence[Part]]) -> list[tuple[str, str]]:
    padded = " " + normalize_text(text).text + " "
    return [(p.form.alias, padded[start:end]) for p, start, end in matcher.matches(padded, parts)]


def test_only_words_holding_a_registered_spelling_are_split() -> None:
    splitter = CountingDecompounder({normalize(w): 4.0 for w in WORDS})
    matcher = small_matcher(splitter)
    parts = {"munition": [part("Munition")]}
    text = "Die Munitionsfabrik, die Satellitenbilder und das Gipfeltreffen; wieder die Munitionsfabrik."
    assert found(matcher, text, parts) == [("Munition", "munitionsfabrik")] * 2
    assert splitter.split_words == ["munitionsfabrik"]  # once, though it occurs twice


def test_a_part_must_start_the_word_or_a_head_with_letters_to_spare() -> None:
    splitter = CountingDecompounder({normalize(w): 4.0 for w in WORDS})
    matcher = small_matcher(splitter)
    parts = {"treffen": [part("Treffen")], "gas": [part("Gas")]}
    # "Treffen" alone, "betreffend" (two letters before it) and "Treffens" (no three letters left for a
    # head after it) cannot be compounds of it
    text = "Das Treffen, betreffend des Treffens, das Gipfeltreffen und die Gaspreise."
    assert found(matcher, text, parts) == [
        ("Treffen", "gipfeltreffen"),
        ("Gas", "gaspreise"),
    ]
    assert splitter.split_words == ["gipfeltreffen", "gaspreise"]


def test_no_candidate_word_never_loads_the_word_list() -> None:
    splitter = Decompounder()  # the wordfreq list, loaded on first use
    matcher = CompoundMatcher(splitter, Vocabulary(), frozenset(), ENDINGS_DE)
    assert found(matcher, "Die Regierung tagte lange in der Hauptstadt.", {"munition": [part("Munition")]}) == []
    assert found(matcher, "Die Munitionsfabrik brannte.", {}) == []
    assert splitter._words is None


def aliases(matcher: CompoundMatcher, text: str, parts: Mapping[str, Sequence[Part]]) -> list[str]:
    return [alias for alias, _ in found(matcher, text, parts)]


@pytest.mark.parametrize("kind", ["dict", "defaultdict", "PartTable", "read-only view"])
def test_the_automaton_follows_the_registered_parts(kind: str) -> None:
    """Whatever the mapping: spellings added (also right after one was removed, the count unchanged),
    removed and added again are found exactly when registered."""
    matcher = small_matcher()
    text = "Die Munitionsfabrik, die Satellitenbilder und die Gaspreise."
    tables: dict[str, dict[str, list[Part]]] = {"PartTable": PartTable(), "defaultdict": defaultdict(list)}
    table = tables.get(kind, {})
    parts: Mapping[str, list[Part]] = MappingProxyType(table) if kind == "read-only view" else table
    table["munition"] = [part("Munition")]
    assert aliases(matcher, text, parts) == ["Munition"]
    table["satellit"] = [part("Satellit")]
    assert aliases(matcher, text, parts) == ["Munition", "Satellit"]
    del table["munition"]
    assert aliases(matcher, text, parts) == ["Satellit"]
    del table["satellit"]
    table["gas"] = [part("Gas")]  # as many spellings as before, but another one
    assert aliases(matcher, text, parts) == ["Gas"]
    table["munition"] = [part("Munition")]  # registered again
    table["gas"].append(part("Gaspreis"))  # another pattern under a known spelling
    assert aliases(matcher, text, parts) == ["Munition", "Gas", "Gaspreis"]
    del table["gas"]
    table["satellit"] = [part("Satellit")]
    table["gas"] = [part("Gas")]  # the newest spelling is an old one again, with a new spelling before it
    assert aliases(matcher, text, parts) == ["Munition", "Satellit", "Gas"]


def test_part_table_counts_the_spellings_added() -> None:
    table: PartTable[Part] = PartTable()
    table["gas"].append(part("Gas"))
    table["gas"].append(part("Gas"))
    assert table.version == 1  # a second pattern under the same spelling adds no spelling
    table.setdefault("zug", [])
    table.update({"wahl": []})
    table |= {"tag": []}
    assert (table.version, type(table)) == (4, PartTable)
    del table["gas"]
    table["gas"] = []
    assert (table.version, sorted(table)) == (5, ["gas", "tag", "wahl", "zug"])


def test_the_word_list_is_wordfreqs_common_words_exactly() -> None:
    """Read bucket by bucket up to the threshold, it equals the filtered dictionary of the whole list."""
    wordfreq = pytest.importorskip("wordfreq")
    whole = wordfreq.get_frequency_dict.__wrapped__("de", wordlist="large")  # uncached: no 80 MB left behind
    threshold = 10 ** (MIN_ZIPF - 9)
    expected: dict[str, float] = {}
    for word, frequency in whole.items():
        if frequency >= threshold and word.isalpha():
            expected.setdefault(normalize(word), math.log10(frequency) + 9)
    assert list(_wordfreq_words().items()) == list(expected.items())


def german_articles(limit: int) -> Iterator[str]:
    for name in ("de_10kgnad_test.jsonl", "de_wikinews_qa.jsonl"):
        with (DATA / name).open(encoding="utf-8") as lines:
            for line in islice(lines, limit):
                record = json.loads(line)
                title = record.get("title") or record.get("lead") or ""
                yield " " + normalize_text(f"{title}\n\n{record.get('text') or ''}").text + " "


@pytest.mark.skipif(not (DATA / "de_10kgnad_test.jsonl").is_file(), reason="shared corpora not present")
def test_same_hits_as_splitting_every_word(engine: MatchEngine) -> None:
    """Every German vocabulary word registered (with and without its sense): the candidate scan finds
    exactly what looking at every long word of real articles finds, in the same order."""
    parts: dict[str, list[Part]] = {}
    for sense in engine.vocabulary.senses:
        for word in sense.in_lang("de"):
            if " " not in word.norm:
                parts.setdefault(word.norm, []).extend([part(word.text, sense.english_tokens()), part(word.text)])
    matcher = CompoundMatcher(engine.decompounder, engine.vocabulary, engine.lexicon.opaque, ENDINGS_DE)
    total = 0
    for text in german_articles(60):
        every_word = [
            (p, m.start(), m.end())
            for m in LONG_WORD.finditer(text)
            for key in matcher._word_parts(m.group()).keys
            for p in parts.get(key, ())
            if _transparent_reference(matcher, m.group(), p.form)
        ]
        assert list(matcher.matches(text, parts)) == every_word
        total += len(every_word)
    assert total > 500  # the articles are full of compounds of vocabulary words


def _transparent_reference(matcher: CompoundMatcher, word: str, form: Form) -> bool:
    """The sense check spelled out from the vocabulary (as the matcher's cached form must decide it)."""
    stems = matcher._stems(word)
    if any(stem in matcher.opaque for stem in stems):
        return False
    own = next((senses for stem in stems if (senses := matcher.vocabulary.lookup(stem))), ())
    if not own or not form.sense:
        return True
    return any(not sense.english_tokens().isdisjoint(form.sense) for sense in own)
