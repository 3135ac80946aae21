"""Captions, credits, sub-headings, bylines, read-more lines and notices never become bullets."""

from __future__ import annotations

import pytest

from bot.core.summary import summarize
from bot.core.summary.cleaning import (
    credit_stripped,
    is_heading,
    is_noise_block,
    is_noise_sentence,
    strip_dateline,
)

LEAD_DE = "Die Regierung in Berlin hat am Montag ein neues Gesetz zur Förderung von Solaranlagen beschlossen."
MORE_DE = "Hausbesitzer sollen künftig bis zu 5.000 Euro Zuschuss für eine Anlage auf dem Dach erhalten."
LAST_DE = "Die Opposition kritisierte, das Programm komme viel zu spät und sei schlecht ausgestattet."
LEAD_EN = "The government in London has approved a new law to support rooftop solar panels on Monday."
MORE_EN = "Homeowners will receive grants of up to 5,000 pounds for each installation on their roofs."
LAST_EN = "The opposition said the programme came far too late and was badly funded by the treasury."


@pytest.mark.parametrize(
    "block",
    [
        "Einem Bericht zufolge will Kim Jong-Un nach Russland reisen. © REUTERS",
        "Kanzler Scholz bei seiner Ankunft in Brüssel. Foto: dpa/Kay Nietfeld",
        "Solaranlagen auf einem Dach in Bayern (Foto: picture alliance)",
        "Bild: imago images",
        "President Biden arrives in Warsaw. REUTERS/Kevin Lamarque",
        "Solar panels on a roof in Kent. Photo: Getty Images",
        "Homeowners queue for grants (AP Photo/Jane Doe)",
        "Credit: AFP via Getty Images",
    ],
)
def test_captions_and_credits_are_recognised(block: str) -> None:
    assert credit_stripped(block)[1]


@pytest.mark.parametrize(
    "block",
    [
        "Der Umsatz stieg um 5 Prozent, sagte ein Sprecher der Nachrichtenagentur Reuters.",
        "He told Reuters the talks were going well.",
        "Bildung ist das wichtigste Thema.",
    ],
)
def test_prose_that_names_an_agency_is_not_a_caption(block: str) -> None:
    assert credit_stripped(block) == (block, False)


@pytest.mark.parametrize(
    "block",
    [
        "Von Max Mustermann",
        "Von unserem Korrespondenten Peter Müller, Washington",
        "By John Smith, BBC News",
        "By JOHN SMITH and JANE DOE",
        "Stand: 04.09.2023, 18:00 Uhr",
        "Updated 12:30 GMT, 4 September 2023",
        "Lesen Sie auch: Kim trifft Putin in Wladiwostok",
        "Mehr zum Thema",
        "Read more: Kim meets Putin in Vladivostok",
        "Related: What we know about the arms deal",
        "Wir verwenden Cookies, um Ihnen das beste Nutzererlebnis zu bieten. Mit der Nutzung stimmen Sie zu.",
        "We use cookies to improve your experience. By continuing you accept our cookie policy.",
        "Dieser Artikel ist nur für Abonnenten verfügbar. Jetzt abonnieren!",
        "Already a subscriber? Log in to continue reading.",
        "Bitte deaktivieren Sie Ihren Werbeblocker.",
        "Anzeige",
    ],
)
def test_noise_blocks(block: str) -> None:
    assert is_noise_block(block)


@pytest.mark.parametrize(
    "sentence",
    [
        "By the end of the year, profits had risen sharply across the group.",
        "Von der Leyen sagte, die Kommission werde handeln.",
        "Die Bäckerei verkauft täglich 500 Cookies an Touristen aus aller Welt.",
        "Netflix gained nine million subscribers in the quarter, the company said.",
        "Axel Springer sperrt Nutzern mit Werbeblocker den Zugang zu Bild.de, berichtete die Zeitung.",
        "Die Regierung will mehr JavaScript-Entwickler ausbilden.",
    ],
)
def test_news_about_the_same_words_is_kept(sentence: str) -> None:
    assert not is_noise_block(sentence)
    assert not is_noise_sentence(sentence)


@pytest.mark.parametrize(
    ("unit", "heading"),
    [
        ("Washington hatte vor Treffen gewarnt", True),
        ("What happens next", True),
        ("## Die Reaktionen", True),
        ("Das sagte er:", True),
        ("Washington hatte vor dem Treffen gewarnt.", False),
        ('Er nannte das "aktiv vorangetrieben".', False),
        ("Is this the end?", False),
    ],
)
def test_headings(unit: str, heading: bool) -> None:
    assert is_heading(unit) is heading


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Wien – Die Gewerkschaft GPA-djp sieht Handlungsbedarf.", "Die Gewerkschaft GPA-djp sieht Handlungsbedarf."),
        ("Berlin/Moskau (dpa) - Der Kreml bestätigte das Treffen.", "Der Kreml bestätigte das Treffen."),
        ("LONDON (Reuters) - Britain's economy grew by 0.2 percent.", "Britain's economy grew by 0.2 percent."),
        ("Kim Jong-Un – der Diktator reist ungern.", "Kim Jong-Un – der Diktator reist ungern."),
    ],
)
def test_datelines_are_stripped(sentence: str, expected: str) -> None:
    assert strip_dateline(sentence) == expected


def _article(*blocks: str) -> str:
    return "\n\n".join(blocks)


NOISE_DE = [
    "Von Max Mustermann",
    "Stand: 04.09.2023, 18:00 Uhr",
    "Lesen Sie auch: Die besten Solaranlagen im Test",
    "Ein Solardach in Bayern. Foto: dpa",
    "Das Förderprogramm im Detail",
    "Wir verwenden Cookies, um unsere Website zu verbessern. Mit der Nutzung stimmen Sie dem zu.",
    "Dieser Artikel ist nur für Abonnenten verfügbar.",
]
NOISE_EN = [
    "By John Smith, BBC News",
    "Updated 12:30 GMT, 4 September 2023",
    "Read more: The best solar panels tested",
    "A solar roof in Kent. Photo: Getty Images",
    "How the scheme works",
    "We use cookies to improve your experience. By continuing you accept our cookie policy.",
    "Already a subscriber? Log in to continue reading.",
]


@pytest.mark.parametrize(
    ("lang", "noise", "sentences"),
    [("de", NOISE_DE, [LEAD_DE, MORE_DE, LAST_DE]), ("en", NOISE_EN, [LEAD_EN, MORE_EN, LAST_EN])],
)
def test_noise_never_becomes_a_bullet(lang: str, noise: list[str], sentences: list[str]) -> None:
    text = _article(noise[0], noise[1], sentences[0], noise[2], noise[3], sentences[1], noise[4], noise[5],
                    sentences[2], noise[6])
    bullets = summarize(text, lang=lang)
    assert bullets == sentences


def test_caption_with_credit_does_not_become_a_bullet(seed_body: str) -> None:
    bullets = summarize(seed_body.replace("Das Wichtigste in Kürze", ""), lang="de", max_bullets=10)
    assert all("REUTERS" not in b and "Einem Bericht zufolge" not in b for b in bullets)
    assert "Washington hatte vor Treffen gewarnt" not in bullets
