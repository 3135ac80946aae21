"""Alert and digest text: escaping, layout, near-duplicate folding and the digest cap."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from bot.core.alerts.compose import (
    AlertEntry,
    Story,
    compose_alert,
    compose_digest,
    fingerprint,
    fold_near_duplicates,
    group_by_query,
    labels_for,
    similar,
)
from tests.core.alerts.markup import problems, shown_text

AGENCY = (
    "Der russische Präsident Wladimir Putin hat den nordkoreanischen Machthaber Kim Jong Un im Kreml "
    "empfangen. Bei dem Treffen ging es nach Angaben des Kremlsprechers um militärische Zusammenarbeit, "
    "Energielieferungen und den Ausbau der Bahnverbindung zwischen beiden Ländern. Kim sagte, Nordkorea "
    "stehe fest an der Seite Russlands. Westliche Regierungen äußerten sich besorgt über mögliche "
    "Waffenlieferungen aus Pjöngjang für den Krieg gegen die Ukraine. Das Treffen dauerte nach "
    "Kreml-Angaben mehr als vier Stunden, im Anschluss gab es ein Staatsbankett. Beobachter werten den "
    "Besuch als Zeichen einer engeren Allianz der beiden international isolierten Staaten. Die Vereinigten "
    "Staaten kündigten an, die Zusammenarbeit genau zu beobachten und gegebenenfalls neue Sanktionen zu "
    "verhängen. Südkorea berief seinen Nationalen Sicherheitsrat ein."
)
GAS = (
    "Russlands Präsident Wladimir Putin hat eine Senkung der Gaspreise für Industriekunden angekündigt. "
    "Die Regierung solle bis zum Sommer einen Plan vorlegen, wie Unternehmen im Ural und in Sibirien "
    "entlastet werden könnten, sagte Putin bei einer Sitzung mit Wirtschaftsvertretern in Moskau. Der "
    "Staatskonzern Gazprom verzeichnete im vergangenen Jahr erstmals seit Jahrzehnten einen Verlust, weil "
    "die Exporte nach Europa fast vollständig weggefallen sind. Ökonomen bezweifeln, dass die Senkung ohne "
    "neue Schulden finanziert werden kann."
)


def entry(
    oid: int,
    title: str,
    body: str,
    *,
    source: str | None = "Spiegel",
    url: str | None = None,
    query: str = "Putin",
    published: date | None = date(2026, 3, 12),
    bullets: tuple[str, ...] = ("Erster Punkt",),
    reason: str = "Putin (Kremlchef)",
) -> AlertEntry:
    return AlertEntry(
        outbox_ids=(oid,),
        article_id=100 + oid,
        title=title,
        published=published,
        lang="de",
        url=url,
        source=source,
        query=query,
        reason=reason,
        bullets=bullets,
        body_fingerprint=fingerprint(title, body),
    )


EN = labels_for("en")
DE = labels_for("de")


# --- single alerts -----------------------------------------------------------------------------------------


def test_alert_layout_title_meta_bullets_matched() -> None:
    alert = entry(1, "Putin empfängt Kim", AGENCY, url="https://www.spiegel.de/a", bullets=("Eins", "Zwei"))
    lines = compose_alert(alert, EN).split("\n")
    assert lines == [
        '<b><a href="https://www.spiegel.de/a">Putin empfängt Kim</a></b>',
        "12 Mar 2026 · DE · Spiegel",
        "• Eins",
        "• Zwei",
        "<i>matched: Putin (Kremlchef)</i>",
    ]


def test_alert_in_german_with_numeric_date_and_no_link() -> None:
    lines = compose_alert(entry(1, "Putin empfängt Kim", AGENCY), DE).split("\n")
    assert lines[0] == "<b>Putin empfängt Kim</b>"
    assert lines[1] == "12.03.2026 · DE · Spiegel"
    assert lines[-1] == "<i>Treffer: Putin (Kremlchef)</i>"


def test_alert_escapes_every_piece_of_article_text() -> None:
    hostile = entry(
        1,
        "Tom & Jerry <script>alert(\"x\")</script> 'quoted'",
        AGENCY,
        source="Bild & <Co>",
        url='https://example.org/a?x=1&y="2"',
        bullets=("a < b & c > d", "\"quoted\" & 'single'", "<b>not bold</b>"),
        reason="Putin <Kremlchef> & Co",
    )
    text = compose_alert(hostile, EN)
    assert problems(text) == []
    for line in text.split("\n"):
        assert problems(line) == [], line  # no tag spans a line break
    shown = shown_text(text)
    assert "Tom & Jerry <script>alert(\"x\")</script> 'quoted'" in shown
    assert "a < b & c > d" in shown
    assert "<b>not bold</b>" in shown
    assert 'href="https://example.org/a?x=1&amp;y=&quot;2&quot;"' in text


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,hi", "ftp://x.org/a", "/relative", "http://"])
def test_alert_links_only_http_urls(url: str) -> None:
    text = compose_alert(entry(1, "Titel", AGENCY, url=url), EN)
    assert "<a " not in text


def test_alert_keeps_markup_on_single_lines_even_with_newlines_in_article_text() -> None:
    messy = entry(1, "Zeile eins\nZeile zwei\t\x00", AGENCY, bullets=("Punkt\nmit Umbruch", "  ", "- Strich"))
    lines = compose_alert(messy, EN).split("\n")
    assert lines[0] == "<b>Zeile eins Zeile zwei</b>"
    assert "• Punkt mit Umbruch" in lines
    assert "• Strich" in lines  # an existing bullet mark is not doubled
    assert "• " not in [line.strip() for line in lines]  # blank bullets are dropped


def test_alert_without_date_source_or_title() -> None:
    bare = entry(1, "  ", AGENCY, source=None, published=None, bullets=())
    assert compose_alert(bare, EN).split("\n") == ["<b>(untitled)</b>", "DE", "<i>matched: Putin (Kremlchef)</i>"]


def test_source_falls_back_to_link_host() -> None:
    text = compose_alert(entry(1, "Titel", AGENCY, source=None, url="https://www.tagesschau.de/x"), EN)
    assert "· tagesschau.de" in text


@pytest.mark.parametrize(
    ("lang", "word"), [("de", "Treffer"), ("de-AT", "Treffer"), ("en", "matched"), ("fr", "matched"), (None, "matched")]
)
def test_labels_for_languages(lang: str | None, word: str) -> None:
    assert labels_for(lang).matched == word


# --- fingerprints and folding ------------------------------------------------------------------------------


def test_fingerprint_is_stable_across_processes() -> None:
    # Python's hash() is salted per process; fingerprints must not be.
    code = "from bot.core.alerts.compose import fingerprint; print(fingerprint('Putin empfängt Kim', 'Text hier'))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": seed}
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert outputs == {fingerprint("Putin empfängt Kim", "Text hier")}


def test_same_story_from_several_sources_folds_into_one() -> None:
    spiegel = entry(1, "Putin empfängt Kim im Kreml", AGENCY, source="Spiegel", url="https://spiegel.de/1")
    zeit = entry(
        2,
        "Kim Jong Un zu Gast bei Putin",
        "Moskau (dpa) – " + AGENCY.replace("Südkorea berief seinen Nationalen Sicherheitsrat ein.", ""),
        source="Zeit",
        url="https://zeit.de/2",
    )
    faz = entry(
        3, "Putin und Kim demonstrieren Nähe", AGENCY + " Mehr in Kürze.", source="FAZ", url="https://faz.net/3"
    )
    other = entry(4, "Putin will Gaspreise senken", GAS, source="Spiegel")
    stories = fold_near_duplicates([spiegel, other, zeit, faz])
    assert [story.outbox_ids for story in stories] == [(1, 2, 3), (4,)]
    assert stories[0].sources == 3
    assert stories[1].sources == 1
    meta = compose_alert(stories[0], EN).split("\n")[1]
    assert "3 sources" in meta
    assert '<a href="https://spiegel.de/1">Spiegel</a>' in meta or '<a href="https://zeit.de/2">Zeit</a>' in meta
    assert "3 Quellen" in compose_alert(stories[0], DE)


def test_small_edits_resent_by_the_same_source_fold_and_show_the_newest() -> None:
    first = entry(1, "Putin empfängt Kim", AGENCY, published=date(2026, 3, 12))
    edited = entry(
        2,
        "Putin empfängt Kim – mit Staatsbankett",
        AGENCY.replace("mehr als vier Stunden", "knapp fünf Stunden").replace("Beobachter werten", "Experten sehen"),
        published=date(2026, 3, 13),
    )
    stories = fold_near_duplicates([first, edited])
    assert len(stories) == 1
    assert stories[0].outbox_ids == (1, 2)
    assert stories[0].sources == 1  # the same outlet twice is one source
    assert stories[0].lead is edited
    assert "source" not in compose_alert(stories[0], EN).split("\n")[1]


def test_different_stories_about_the_same_person_stay_apart() -> None:
    stories = fold_near_duplicates(
        [entry(1, "Putin empfängt Kim", AGENCY), entry(2, "Putin will Gaspreise senken", GAS)]
    )
    assert len(stories) == 2
    assert not similar(fingerprint("Putin empfängt Kim", AGENCY), fingerprint("Putin will Gaspreise senken", GAS))


def test_different_stories_sharing_a_background_paragraph_stay_apart() -> None:
    background = (
        "Russland führt seit Februar 2022 einen Angriffskrieg gegen die Ukraine. Der Westen hat seither "
        "zahlreiche Sanktionspakete gegen Moskau beschlossen, die Wirtschaft des Landes ist jedoch weniger "
        "stark eingebrochen als erwartet."
    )
    kim = entry(1, "Putin empfängt Kim", f"{AGENCY} {background}")
    gas = entry(2, "Putin will Gaspreise senken", f"{GAS} {background}")
    assert len(fold_near_duplicates([kim, gas])) == 2


def test_equal_titles_over_different_long_texts_stay_apart() -> None:
    # A daily live blog keeps its title while the text is new each day.
    day_one = entry(1, "Liveblog: Krieg in der Ukraine – alle Entwicklungen", AGENCY)
    day_two = entry(2, "Liveblog: Krieg in der Ukraine – alle Entwicklungen", GAS)
    assert len(fold_near_duplicates([day_one, day_two])) == 2


def test_teasers_with_the_same_headline_fold() -> None:
    teaser_a = entry(1, "Putin empfängt Kim Jong Un im Kreml", "Treffen in Moskau.", source="n-tv")
    teaser_b = entry(2, "Putin empfängt Kim Jong Un im Kreml", "Die Staatschefs sprachen stundenlang.", source="Welt")
    stories = fold_near_duplicates([teaser_a, teaser_b])
    assert len(stories) == 1 and stories[0].sources == 2


def test_missing_or_malformed_fingerprints_never_fold() -> None:
    blank = AlertEntry((1,), 1, "T", None, "de", None, None, "q", "r")
    broken = AlertEntry((2,), 2, "T", None, "de", None, None, "q", "r", body_fingerprint="m1:%%%:***")
    assert len(fold_near_duplicates([blank, blank, broken, broken])) == 4
    assert not similar("", "")


def test_folding_many_entries_keeps_every_outbox_id_once() -> None:
    entries = [
        entry(i, f"Meldung {i}", f"{AGENCY} Ergänzung {i}." if i % 2 else f"{GAS} Nachtrag {i}.") for i in range(200)
    ]
    stories = fold_near_duplicates(entries)
    ids = [oid for story in stories for oid in story.outbox_ids]
    assert sorted(ids) == list(range(200))
    assert len(stories) == 2


# --- digests -----------------------------------------------------------------------------------------------


def unique_story(oid: int, query: str) -> Story:
    e = entry(oid, f"Meldung Nummer {oid} zu {query}", f"Eigener Text {oid} " * 5 + query, query=query)
    return Story(lead=e, members=(e,))


def test_digest_groups_by_subscription_and_lists_every_story() -> None:
    stories = {"Putin": [unique_story(1, "Putin"), unique_story(2, "Putin")], "Kim": [unique_story(3, "Kim")]}
    digest = compose_digest(stories, cap=10, labels=EN)
    assert digest.included_outbox_ids == (1, 2, 3)
    assert digest.left_over_ids == ()
    lines = digest.html.split("\n")
    assert lines[0] == "<b>Your news digest: 3 stories</b>"
    assert lines.index("<b>» Putin</b>") < lines.index("<b>» Kim</b>")
    assert "more" not in digest.html
    assert problems(digest.html) == []


def test_digest_cap_shows_more_line_and_shares_the_cap_between_subscriptions() -> None:
    stories = {
        "Putin": [unique_story(i, "Putin") for i in range(1, 9)],
        "Kim": [unique_story(i, "Kim") for i in range(9, 11)],
        "arms deal": [unique_story(i, "arms deal") for i in range(11, 13)],
    }
    digest = compose_digest(stories, cap=5, labels=EN)
    assert digest.story_count == 5
    assert digest.included_outbox_ids == (1, 2, 9, 10, 11)  # round robin: Putin 2, Kim 2, arms deal 1
    assert set(digest.left_over_ids) == set(range(1, 13)) - set(digest.included_outbox_ids)
    assert digest.left_over_count == 7
    assert digest.html.split("\n")[-1] == "<i>+7 more — send /digest for the rest</i>"
    assert "Your news digest: 5 stories" in digest.html


def test_digest_cap_counts_folded_stories_once_and_uses_the_platform_command() -> None:
    folded = fold_near_duplicates(
        [entry(1, "Putin empfängt Kim", AGENCY), entry(2, "Putin empfängt Kim", AGENCY, source="Zeit")]
    )
    stories = group_by_query([*folded, unique_story(3, "Putin"), unique_story(4, "Putin")])
    digest = compose_digest(stories, cap=2, labels=DE, command="!digest")
    assert digest.included_outbox_ids == (1, 2, 3)
    assert digest.left_over_ids == (4,)
    assert "2 Quellen" in digest.html
    assert digest.html.split("\n")[-1] == "<i>+1 weitere — !digest senden für den Rest</i>"
    assert digest.html.startswith("<b>Ihre Nachrichtenübersicht: 2 Meldungen</b>")


def test_digest_escapes_subscription_text() -> None:
    digest = compose_digest({"<AT&T>": [unique_story(1, "<AT&T>")]}, cap=3, labels=EN)
    assert "<b>» &lt;AT&amp;T&gt;</b>" in digest.html
    assert problems(digest.html) == []


def test_empty_digest_and_bad_cap() -> None:
    assert compose_digest({}, cap=10, labels=EN).html == ""
    assert compose_digest({"Putin": []}, cap=10, labels=EN).included_outbox_ids == ()
    with pytest.raises(ValueError, match="cap"):
        compose_digest({}, cap=0, labels=EN)
