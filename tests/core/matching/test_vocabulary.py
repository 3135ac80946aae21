"""Free words across languages (the bilingual vocabulary), German compounds and namesakes, on a small
fixture vocabulary in the shipped format, so the tests do not depend on how much data has been written."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.matching import MatchEngine, SubscriptionIndex, Vocabulary, VocabularyError
from bot.core.matching.compounds import Decompounder
from bot.core.matching.lexicon import Lexicon
from bot.core.matching.normalize import normalize

FIXTURE = Path(__file__).parent / "fixtures" / "vocabulary"


@pytest.fixture(scope="module")
def vocab_engine() -> MatchEngine:
    return MatchEngine(Lexicon.load(), Vocabulary.load(FIXTURE))


def hit(engine: MatchEngine, query: str, text: str, lang: str | None = None) -> bool:
    return engine.match(query, text, lang).matched


@pytest.mark.parametrize(
    ("query", "text", "lang"),
    [
        ("Munition", "Russia is short of ammunition.", "en"),
        ("Munition", "Die Munitionsfabrik explodierte am Morgen.", "de"),
        ("Munition", "Die Munitionslieferungen an die Front stocken.", "de"),
        ("ammunition", "Russland braucht mehr Munition.", "de"),
        ("ammunition", "Die Munitionsfabrik explodierte am Morgen.", "de"),
        ("U-Boot", "The navy lost a submarine.", "en"),
        ("U-Boot", "Ein Atom-U-Boot lief aus dem Hafen aus.", "de"),
        ("submarine", "Das Unterseeboot tauchte vor der Küste auf.", "de"),
        ("Satellit", "Neue Satellitenbilder zeigen die Schäden.", "de"),
        ("Satellit", "Die Aufklärungssatelliten kreisen über der Region.", "de"),
        ("Satellit", "The satellite was launched on Friday.", "en"),
        ("Gefangene", "Both sides exchanged prisoners.", "en"),
        ("Granaten", "Moscow is asking for artillery shells.", "en"),
        ("Granaten", "Soldiers threw grenades.", "en"),
        ("Panzer", "The first Leopard tanks arrived.", "en"),
        ("tanks", "Die Panzer rollten über die Grenze.", "de"),
        ("Gas", "Die Gaspreise sind im Oktober gefallen.", "de"),
        ("Luftangriff", "An air strike hit the town.", "en"),
        ("Luftangriff", "An airstrike hit the town.", "en"),
    ],
)
def test_free_words_match_their_translations_and_compounds(
    vocab_engine: MatchEngine, query: str, text: str, lang: str
) -> None:
    assert hit(vocab_engine, query, text, lang), vocab_engine.match(query, text, lang)


@pytest.mark.parametrize(
    ("query", "text", "lang"),
    [
        ("Granaten", "Collectors paid for rare sea shells on the beach.", "en"),  # ambiguous, no context
        ("Panzer", "The fish tanks were cleaned on Monday.", "en"),
        ("Rat", "Der Ratgeber empfiehlt viel Ruhe.", "de"),  # Rat~ forms no compounds
        ("Waffe", "Die Konfliktparteien einigten sich auf einen Waffenstillstand.", "de"),  # own entry: ceasefire
        ("Brücke", "Viele Berliner nutzten den Brückentag für einen Kurzurlaub.", "de"),  # opaque compound
        ("Gas", "Die Gastronomie klagt über Personalmangel.", "de"),  # no split: "tronomie" is no word
        ("Zug", "Er trug einen dunklen Anzug.", "de"),
        ("Zug", "In Bezug auf die Lage sagte er nichts.", "de"),
        ("Wahl", "Die Auswahl im Laden war groß.", "de"),
        ("Arm", "Die Armut in der Region hat zugenommen.", "de"),
        ("Grenze", "Die Grenzwerte wurden überschritten.", "de"),  # Grenz- is not the word Grenze
    ],
)
def test_no_match_without_context_or_by_bare_substrings(
    vocab_engine: MatchEngine, query: str, text: str, lang: str
) -> None:
    assert not hit(vocab_engine, query, text, lang), vocab_engine.match(query, text, lang).reason()


def test_context_must_be_near_the_ambiguous_word(vocab_engine: MatchEngine) -> None:
    far = "Artillery units moved north. " + "The weather stayed calm all week. " * 10 + "Shells lay on the beach."
    assert not hit(vocab_engine, "Granaten", far, "en")
    assert hit(vocab_engine, "Granaten", "Shells from the artillery hit the town.", "en")


def test_the_explanation_names_the_path(vocab_engine: MatchEngine) -> None:
    result = vocab_engine.match("Munition", "Die Munitionsfabrik brannte, die Ammunition war verloren.", "de")
    assert {(h.surface, h.via) for h in result.hits} == {
        ("Munitionsfabrik", "compound part"),
        ("Ammunition", "translation"),
    }
    assert result.reason() == "Munition (Munitionsfabrik: compound part, Ammunition: translation)"
    alias = vocab_engine.match("Putin", "Der Kremlchef schwieg.", "de").hits[0]
    assert alias.via == "lexicon alias"


def test_index_matches_translations_like_the_engine(vocab_engine: MatchEngine) -> None:
    index = SubscriptionIndex(vocab_engine)
    index.add(1, "Munition")
    index.add(2, "submarine")
    index.add(3, "Panzer")
    assert set(index.match("Die Munitionsfabrik und ein U-Boot.", "de")) == {1, 2}
    assert set(index.match("The fish tanks were cleaned.", "en")) == set()
    index.remove(1)
    assert set(index.match("Die Munitionsfabrik und ein U-Boot.", "de")) == {2}


def test_describes_translations_and_the_context_rule(vocab_engine: MatchEngine) -> None:
    description = vocab_engine.resolve("Granaten", "en").description
    assert "translated: grenade" in description and "shell only next to artillery" in description
    assert "übersetzt: grenade" in vocab_engine.resolve("Granaten", "de").description


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("Wagner", "Wagner mercenaries fought near Bakhmut.", True),
        ("Wagner", "Die Söldner der Gruppe um Wagner zogen aus Bachmut ab.", True),
        ("Wagner", "Richard Wagner's opera Parsifal premiered in Bayreuth.", False),
        ("Wagner", "Die Oper von Wagner wurde in Bayreuth gespielt.", False),
        ("Kirby", "Kirby told reporters at the White House that talks continue.", True),
        ("Kirby", "Nintendo announced a new Kirby game for the Switch.", False),
        ("Xi", "Xi met Biden in San Francisco.", True),
        ("Xi", "Flights to Xi'an were cancelled because of fog.", False),
    ],
)
def test_namesakes_are_resolved_from_context(vocab_engine: MatchEngine, query: str, text: str, expected: bool) -> None:
    assert hit(vocab_engine, query, text) is expected


def test_subscribe_offers_the_other_senses(vocab_engine: MatchEngine) -> None:
    wagner = vocab_engine.resolve("Wagner", "en")
    assert wagner.candidates == ("Wagner Group", "Richard Wagner")
    assert wagner.description.startswith("Wagner → Wagner Group")
    assert "could also mean: Richard Wagner" in wagner.description
    kirby = vocab_engine.resolve("Kirby", "en")
    assert kirby.candidates[0] == "John Kirby" and len(kirby.candidates) == 2


def test_decompounder_splits_only_into_words() -> None:
    words = {normalize(w): 4.0 for w in ("Munition", "Fabrik", "Satelliten", "Bilder", "Zug", "Wahl", "Tag")}
    splitter = Decompounder(words)
    assert [(s.first, s.head) for s in splitter.splits("munitionsfabrik")] == [(("munition",), "fabrik")]
    assert splitter.splits("auswahl") == ()  # "aus" is a particle, not a modifier
    assert splitter.splits("anzug") == ()
    assert splitter.splits("armut") == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("de\ten\tsense\tcontext\nMunition\tammunition\t-\n", "x.tsv:2: 3 columns, want 4"),
        ("de\ten\tsense\tcontext\nMunition\t\t-\t-\n", "x.tsv:2: empty column"),
        ("# c\nde\ten\tsense\tcontext\nGranate\tshell~\t-\t-\n", "x.tsv:3: a word marked ~ needs context"),
        ("Munition\t-\t-\t-\n", "x.tsv:1: needs a German and an English word"),
    ],
)
def test_bad_vocabulary_names_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "x.tsv").write_text(content, encoding="utf-8")
    with pytest.raises(VocabularyError, match=message):
        Vocabulary.load(tmp_path)


def test_no_vocabulary_folder_is_an_empty_vocabulary(tmp_path: Path) -> None:
    assert len(Vocabulary.load(tmp_path / "missing")) == 0
