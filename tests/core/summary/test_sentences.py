"""Sentence splitting of German and English news text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.summary import split_sentences
from bot.core.summary.sentences import split_blocks


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        # ordinals and dates (German)
        (
            'Das schrieb die "New York Times" (NYT) am Montagabend (4. September). So wolle sich Russland wappnen.',
            "de",
            [
                'Das schrieb die "New York Times" (NYT) am Montagabend (4. September).',
                "So wolle sich Russland wappnen.",
            ],
        ),
        (
            "Das Forum soll vom 10. bis zum 13. September in Wladiwostok stattfinden. Kim reist mit dem Zug.",
            "de",
            ["Das Forum soll vom 10. bis zum 13. September in Wladiwostok stattfinden.", "Kim reist mit dem Zug."],
        ),
        ("Seit dem 2. Weltkrieg ist das so. Am 3. Oktober wird gefeiert.", "de",
         ["Seit dem 2. Weltkrieg ist das so.", "Am 3. Oktober wird gefeiert."]),
        ("Das Gesetz gilt seit 2012. Danach kam die Wende.", "de",
         ["Das Gesetz gilt seit 2012.", "Danach kam die Wende."]),
        # dates (English)
        ("The summit ends on Sept. 13 in Vladivostok. Kim travels by train.", "en",
         ["The summit ends on Sept. 13 in Vladivostok.", "Kim travels by train."]),
        ("He scored in the 25. The crowd cheered.", "en", ["He scored in the 25.", "The crowd cheered."]),
        # initials
        ('Laut "NYT" sagte John F. Kirby, die Gespräche würden vorangetrieben. Das Weiße Haus schwieg.', "de",
         ['Laut "NYT" sagte John F. Kirby, die Gespräche würden vorangetrieben.', "Das Weiße Haus schwieg."]),
        ("President George W. Bush said the US backed Russian entry. Talks went on.", "en",
         ["President George W. Bush said the US backed Russian entry.", "Talks went on."]),
        # abbreviations (German)
        ("Es gibt z. B. Granaten, u. a. auch Raketen. Der Rest ist unklar.", "de",
         ["Es gibt z. B. Granaten, u. a. auch Raketen.", "Der Rest ist unklar."]),
        ("Dr. Müller wohnt in St. Petersburg in Haus Nr. 5 an der Hauptstr. Gegenüber ist ein Park.", "de",
         ["Dr. Müller wohnt in St. Petersburg in Haus Nr. 5 an der Hauptstr.", "Gegenüber ist ein Park."]),
        ("Es kamen ca. 500 Menschen bzw. Gäste. Sie blieben lange.", "de",
         ["Es kamen ca. 500 Menschen bzw. Gäste.", "Sie blieben lange."]),
        # abbreviations (English)
        ("Mr. Johannesson met Dr. Smith in St. Louis. They agreed.", "en",
         ["Mr. Johannesson met Dr. Smith in St. Louis.", "They agreed."]),
        ("Mr Johannesson said U.S. officials were pleased. Russia agreed.", "en",
         ["Mr Johannesson said U.S. officials were pleased.", "Russia agreed."]),
        ("The deal was signed in the U.S. The talks will go on.", "en",
         ["The deal was signed in the U.S.", "The talks will go on."]),
        # quotes
        ('Er sagte: "Wir kommen." Dann ging er.', "de", ['Er sagte: "Wir kommen."', "Dann ging er."]),
        ("Sie sagte: „Das ist falsch.“ Die Partei widersprach.", "de",
         ["Sie sagte: „Das ist falsch.“", "Die Partei widersprach."]),
        ('"Is it over?" he asked. Nobody answered.', "en", ['"Is it over?" he asked.', "Nobody answered."]),
        ('"We will win," he said. The crowd cheered!', "en", ['"We will win," he said.', "The crowd cheered!"]),
        ('Er sagte, die Gespräche würden "aktiv vorangetrieben". "Wir sind bereit", so Kirby.', "de",
         ['Er sagte, die Gespräche würden "aktiv vorangetrieben".', '"Wir sind bereit", so Kirby.']),
        # parentheses
        ("Das Treffen (geplant ist es für Moskau. Oder Kiew) findet statt. Danach reist er ab.", "de",
         ["Das Treffen (geplant ist es für Moskau. Oder Kiew) findet statt.", "Danach reist er ab."]),
        ("The meeting was one of the best (meetings) we recall. Australia agreed.", "en",
         ["The meeting was one of the best (meetings) we recall.", "Australia agreed."]),
        # numbers
        ("Nordkorea hat alle 8.000 Brennstäbe umgewandelt. Das sind 1,5 Tonnen.", "de",
         ["Nordkorea hat alle 8.000 Brennstäbe umgewandelt.", "Das sind 1,5 Tonnen."]),
        ("Profits rose 3.5% to $1.13bn. Shares fell.", "en", ["Profits rose 3.5% to $1.13bn.", "Shares fell."]),
        # questions, exclamations, ellipses, Roman numerals
        ("Wirklich? Ja! Es geht … weiter. Papst Benedikt XVI. sagte nichts.", "de",
         ["Wirklich?", "Ja!", "Es geht … weiter.", "Papst Benedikt XVI. sagte nichts."]),
    ],
)
def test_sentence_boundaries(text: str, lang: str, expected: list[str]) -> None:
    assert split_sentences(text, lang) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Er warnte vor dem Treffen.\n\nWashington hatte vor Treffen gewarnt\n\nAm Mittwoch reagierte das Haus.",
            ["Er warnte vor dem Treffen.", "Washington hatte vor Treffen gewarnt", "Am Mittwoch reagierte das Haus."],
        ),
        (
            "Sticking points remain.\nWhat happens next\nA decision could come in December.",
            ["Sticking points remain.", "What happens next", "A decision could come in December."],
        ),
    ],
)
def test_lines_without_punctuation_are_units_of_their_own(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_hard_wrapped_lines_are_joined_again() -> None:
    text = (
        "Russia has been waiting for a decade to join the WTO and hopes\n"
        "to finally become a member by early 2006. A decision could be reached\n"
        "in December."
    )
    assert split_sentences(text, "en") == [
        "Russia has been waiting for a decade to join the WTO and hopes to finally become a member by early 2006.",
        "A decision could be reached in December.",
    ]


def test_list_items_are_blocks_of_their_own() -> None:
    blocks = split_blocks("Key points:\n- first point\n- second point")
    assert blocks == ["Key points:", "- first point", "- second point"]


def test_seed_article_splits_into_whole_sentences(seed_body: str) -> None:
    sentences = split_sentences(seed_body, "de")
    assert "Laut \"NYT\" sagte John F. Kirby, die Gespräche auf hoher Ebene über die militärische Zusammenarbeit " \
        'zwischen den beiden Nationen würden "aktiv vorangetrieben".' in sentences
    assert any(s.endswith("vom 10. bis zum 13. September in Wladiwostok stattfinden soll.") for s in sentences)
    assert "Washington hatte vor Treffen gewarnt" in sentences


def test_empty_and_blank_text() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\n\t ") == []


_ALPHABET = st.sampled_from([*"abcXYZ äöüß019.,;:!?\"'()„“«»-–…\n ", "Dr.", "z. B.", "U.S.", "4. Mai"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=80).map("".join))
def test_splitting_never_loses_or_invents_text(text: str) -> None:
    def squash(value: str) -> str:
        return "".join(value.split())

    assert squash("".join(split_sentences(text, "de"))) == squash(text)
    assert all(s == s.strip() and s for s in split_sentences(text, "en"))
