from __future__ import annotations

import pytest

from bot.core.matching import MatchEngine, QueryError


def matches(engine: MatchEngine, query: str, text: str, lang: str | None = None) -> bool:
    return engine.match(query, text, lang).matched


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("Putin", "Wladimir Putin empfing den Gast."),
        ("Putin", "Vladimir Putin said so."),
        ("Putin", "Putins Sprecher schwieg."),
        ("Putin", "Der Kremlchef reiste ab."),
        ("Putin", "Das Putin-Kim-Treffen beginnt."),
        ("Putin", "'Putin's war' is the headline."),
        ("Kim Jong-Un", "Kim Jong Un reiste mit dem Zug."),
        ("Kim Jong-Un", "Kim Jong-un inspected a launch."),
        ("Kim", "Machthaber Kim hat gesprochen."),
        ("Kim", "Nordkorea: Kims Rede wurde übertragen."),
        ("arms deal", "Ein Waffendeal wurde besprochen."),
        ("arms deal", "Ein Waffengeschäft wurde erörtert."),
        ("arms deal", "Der Rüstungsdeal ist fertig."),
        ("arms deal", "They discussed a weapons deal."),
        ("arms deal", "Die Waffengeschäfte blühen."),
        ("arms deal", "Der Milliardenwaffendeal wurde unterzeichnet."),
        ("arms deal", "Der Waffen-Deal wurde unterzeichnet."),
        ("North Korea", "Nordkorea testete eine Rakete."),
        ("North Korea", "In Pjöngjang wurde gefeiert."),
        ("North Korea", "Pyongyang fired a missile."),
        ("North Korea", "The DPRK said so."),
        ("Nordkorea", "North Korean troops were seen."),
        ("Russia", "Russland will mehr Munition."),
        ("Russia", "Die russische Armee zog ab."),
        ("Russia", "Das Hauptanliegen Moskaus sind Waffen."),
        ("Ukraine war", "Nachschub für den Ukraine-Krieg."),
        ("Ukraine war", "The war in Ukraine has entered its second winter."),
        ("Wladiwostok", "The meeting will take place in Vladivostok."),
        ("US", "The US-Präsident spoke."),
        ("Putin", "The Russian president's spokesman declined to comment."),
        ("Putin", "Der russische Präsident reiste nach Peking."),
    ],
)
def test_recall_of_names_forms_and_languages(engine: MatchEngine, query: str, text: str) -> None:
    assert matches(engine, query, text), engine.match(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("Putin", "Die Oper über Rasputin wurde uraufgeführt."),
        ("Putin", "Cloud computing is growing fast."),
        ("Putin", "Der Kreml äußerte sich nicht."),
        ("Russia", "Borussia Dortmund won again."),
        ("Russia", "The history of Prussia."),
        ("Russia", "The Belarusian team won the match in Minsk."),
        ("Kim", "Das Kimchi-Festival in Seoul."),
        ("Kim", "Kimberly went shopping."),
        ("Kim", "Kim Kardashian launched a fashion line."),
        ("Kim Jong-Un", "Kim Kardashian launched a new fashion line in Los Angeles."),
        ("Kim", "Kim Kardashian met North Korea experts."),
        ("Kim", "Kim said she would attend the party."),
        ("Kim", "Trump attorney Kim Wehle spoke to reporters about the case in the capital."),
        ("Kim Jong-Un", "Kim Jong Il died in 2011."),
        ("arms deal", "The farms deal was signed."),
        ("arms deal", "Louis Armstrong played a deal of music."),
        ("arms deal", "She held the newborn in her arms while the deal was signed for the house."),
        ("arms deal", "Die Konfliktparteien einigten sich auf einen Waffenstillstand."),
        ("arms deal", "Die Waffenruhe hält."),
        ("arms deal", "Der Verein hat den Deal mit dem Stürmer perfekt gemacht."),
        ("arms deal", "The arms dealer was arrested in London."),
        ("Nordkorea", "Südkorea und Japan vereinbarten eine engere Zusammenarbeit."),
        ("US", "Tell us what you think."),
        ("Putin", "Both the Ukrainian and Russian presidents were called."),
        ("Putin", "Former Russian President Dmitry Medvedev warned the West."),
        ("France", "Paris Hilton opened a hotel."),
    ],
)
def test_precision_traps(engine: MatchEngine, query: str, text: str) -> None:
    assert not matches(engine, query, text), engine.match(query, text).reason()


def test_kim_counts_with_support_in_the_text(engine: MatchEngine) -> None:
    assert matches(engine, "Kim", "Kim visited the factory. North Korea said it would test more missiles.")
    assert matches(engine, "Kim", "Putin und Kim trafen sich in Wladiwostok.")
    assert not matches(engine, "Kim", "Kim visited the factory and praised the workers.")


def test_headline_title_case_does_not_read_as_a_full_name(engine: MatchEngine) -> None:
    assert matches(engine, "Kim", "North Korea's Kim Vows to Increase Nuclear Arsenal")


def test_boolean_queries(engine: MatchEngine) -> None:
    both = "Das Treffen zwischen Putin und Kim soll in Wladiwostok stattfinden."
    assert matches(engine, "Putin AND Kim", both)
    assert not matches(engine, "Putin AND Kim", "Putin sprach mit dem türkischen Präsidenten.")
    assert matches(engine, "Putin -Ukraine", "Putin eröffnete das Wirtschaftsforum.")
    assert not matches(engine, "Putin -Ukraine", "Putin sprach über den Krieg in der Ukraine.")
    assert matches(engine, '"arms deal" -Ukraine', "Russia and North Korea discussed an arms deal.")
    assert not matches(engine, '"arms deal" -Ukraine', "An arms deal to supply Ukraine.")
    assert matches(engine, "(Xi OR Putin) AND Kim", both)
    assert not matches(engine, "(Xi OR Biden) AND Kim", both)


def test_free_text_is_lemmatised_compound_aware_and_transliterated(engine: MatchEngine) -> None:
    assert matches(engine, "Gipfeltreffen", "Die Gipfeltreffen dauerten an.")
    assert matches(engine, "Treffen", "Das Gipfeltreffen in der Stadt war kurz.")
    assert not matches(engine, "Treffen", "The Gipfeltreffen word in English text.")
    assert matches(engine, "deals", "The deal was signed.")
    assert not matches(engine, "deal", "An ideal solution was found.")
    assert matches(engine, "Chabarowsk", "The governor of Khabarovsk resigned.")
    assert matches(engine, "Khabarovsk", "Der Gouverneur von Chabarowsk trat zurück.")
    assert matches(engine, "Schoigu", "Shoigu visited the front.")
    assert matches(engine, '"solar panels"', "New solar panels were installed.")


def test_hits_explain_with_offsets(engine: MatchEngine) -> None:
    text = "Kremlchef Wladimir Putins Gast aus Pjöngjang"
    result = engine.match("Putin", text, "de")
    assert result.matched
    assert [text[h.start : h.end] for h in result.hits] == [h.surface for h in result.hits]
    assert {h.surface for h in result.hits} == {"Kremlchef", "Wladimir Putins"}
    assert {h.term for h in result.hits} == {"Wladimir Putin"}
    assert result.reason() == "Wladimir Putin (Kremlchef, Wladimir Putins)"


def test_offsets_survive_umlauts_before_the_hit(engine: MatchEngine) -> None:
    text = "Über Größe: Pjöngjang und Moskau"
    result = engine.match("Russia", text, "de")
    assert [(text[h.start : h.end]) for h in result.hits] == ["Moskau"]


def test_resolution(engine: MatchEngine) -> None:
    putin = engine.resolve("Putin")
    assert putin.description.startswith("Putin → Wladimir Putin, ")
    assert "names incl. Kremlchef" in putin.description
    assert putin.candidates == ()
    kim = engine.resolve("Kim")
    assert kim.candidates[0] == "Kim Jong-un" and "Kim Yo-jong" in kim.candidates
    assert "could also mean" in kim.description
    assert engine.resolve("Nordkorea").key == engine.resolve("North Korea").key == engine.resolve("DPRK").key
    assert engine.resolve("Putin AND Kim").key == engine.resolve("Kim AND Putin").key
    assert engine.resolve("Putin OR Biden").description == "Putin OR Biden → Wladimir Putin OR Joe Biden"
    nested = engine.resolve("Putin -(Ukraine OR Biden)").description
    assert nested == "Putin -(Ukraine OR Biden) → Wladimir Putin AND NOT (Ukraine OR Joe Biden)"
    both = engine.resolve("Putin AND Kim").description
    assert both.startswith("Putin AND Kim → Wladimir Putin AND Kim Jong-un — could also mean: Kim Yo-jong")
    keyword = engine.resolve("Chabarowsk")
    assert keyword.key.startswith("text:") and "khabarovsk" in keyword.description


def test_query_errors_are_value_errors_with_text(engine: MatchEngine) -> None:
    with pytest.raises(ValueError, match="closed"):
        engine.match("(Putin", "Putin")


def test_focus(engine: MatchEngine) -> None:
    mentions = engine.focus_predicate("Kim -Ukraine")
    assert mentions("Kim sprach lange.")  # inside a matched article a lone "Kim" is the focus
    assert not mentions("Die Ukraine wurde erwähnt.")
    assert not mentions("Kim Kardashian was there.")
    terms = engine.focus_terms("Putin AND arms deal")
    assert "Kremlchef" in terms and "Waffendeal" in terms and "Ukraine" not in terms


def test_match_never_raises_on_odd_text(engine: MatchEngine) -> None:
    for text in ["", "\x00\x01", "ﬁ" * 50, "ß" * 10 + "Putin", "\u0301Putin", "🙂 Putin 🙂"]:
        engine.match("Putin", text)
    assert matches(engine, "Putin", "🙂 Putin 🙂")


def test_unknown_query_error_for_bad_input_in_match(engine: MatchEngine) -> None:
    with pytest.raises(QueryError):
        engine.match("", "text")
