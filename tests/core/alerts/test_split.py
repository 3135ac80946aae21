"""Splitting under platform limits: between lines first, markup balanced in every part."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.alerts.compose import AlertEntry, Story, compose_digest, labels_for
from bot.core.alerts.split import plain_length, plain_text, split_message, utf16_length
from tests.core.alerts.markup import problems

TELEGRAM = 4096


def assert_parts_valid(parts: list[str], limit: int) -> None:
    for part in parts:
        assert len(part) <= limit, f"raw length {len(part)} > {limit}"
        assert plain_length(part) <= limit, f"shown length {plain_length(part)} > {limit}"
        assert problems(part) == [], (problems(part), part[:200])
        assert plain_text(part).strip(), "empty part"


def words(text: str) -> list[str]:
    return plain_text(text).split()


def big_digest(stories: int) -> str:
    entries = [
        AlertEntry(
            outbox_ids=(i,),
            article_id=i,
            title=f'Meldung {i}: Putin & Kim <treffen> sich "erneut" in Moskau',
            published=date(2026, 3, 12),
            lang="de",
            url=f"https://example.org/artikel/{i}?a=1&b=2",
            source="Agentur",
            query=("Putin", "Kim", "arms deal")[i % 3],
            reason="Putin (Kremlchef)",
            bullets=tuple(f"Punkt {j} der Meldung {i} mit etwas mehr Text, damit es sich lohnt" for j in range(4)),
        )
        for i in range(stories)
    ]
    grouped: dict[str, list[Story]] = {}
    for e in entries:
        grouped.setdefault(e.query, []).append(Story(lead=e, members=(e,)))
    return compose_digest(grouped, cap=stories, labels=labels_for("de")).html


def test_short_message_is_one_part() -> None:
    assert split_message("<b>Titel</b>\n• Punkt", TELEGRAM) == ["<b>Titel</b>\n• Punkt"]
    assert split_message("", TELEGRAM) == []
    assert split_message(" \n \n", TELEGRAM) == []


def test_long_digest_splits_between_lines() -> None:
    digest = big_digest(120)
    assert len(digest) > 3 * TELEGRAM
    parts = split_message(digest, TELEGRAM)
    assert len(parts) >= 4
    assert_parts_valid(parts, TELEGRAM)
    original_lines = {line for line in digest.split("\n") if line}
    for part in parts:
        assert set(part.split("\n")) - {""} <= original_lines  # every line intact
    assert words("\n".join(parts)) == words(digest)
    assert all(len(part) > TELEGRAM // 2 for part in parts[:-1])  # parts are filled, not one per line


def test_matrix_limit_fits_the_same_digest_in_fewer_parts() -> None:
    digest = big_digest(120)
    parts = split_message(digest, 30000)
    assert len(parts) == 1 + len(digest) // 30000
    assert_parts_valid(parts, 30000)


def test_over_long_line_is_cut_at_words_with_tags_closed_and_reopened() -> None:
    line = '• <b>Fett <a href="https://example.org/?q=1&amp;r=2">' + "verlinkter Text " * 600 + "</a> Ende</b> danach"
    parts = split_message("<b>Titel</b>\n" + line, 1000)
    assert_parts_valid(parts, 1000)
    assert parts[0] == "<b>Titel</b>"
    for part in parts[2:-1]:
        assert part.startswith('<b><a href="https://example.org/?q=1&amp;r=2">')
        assert part.endswith("</a></b>")
    assert words(" ".join(parts)) == words("<b>Titel</b>\n" + line)
    assert set(words(" ".join(parts))) == {"Titel", "•", "Fett", "verlinkter", "Text", "Ende", "danach"}


def test_a_single_word_longer_than_the_limit_is_cut_anywhere_but_inside_entities() -> None:
    word = "Donaudampfschifffahrts&amp;" * 100
    parts = split_message(f"<i>{word}</i>", 128)
    assert_parts_valid(parts, 128)
    assert "".join(plain_text(part) for part in parts) == plain_text(word)


def test_shown_length_counts_utf16_units() -> None:
    # 3000 emoji are 3000 characters but 6000 UTF-16 units: Telegram would refuse one message.
    text = "🙂" * 3000
    assert len(text) <= TELEGRAM and utf16_length(text) > TELEGRAM
    parts = split_message(text, TELEGRAM)
    assert len(parts) == 2
    assert_parts_valid(parts, TELEGRAM)


def test_entities_count_as_one_shown_character_but_raw_length_still_binds() -> None:
    text = "&amp;" * 1000  # 5000 raw characters, 1000 shown
    parts = split_message(text, TELEGRAM)
    assert len(parts) == 2
    assert all(len(part) <= TELEGRAM for part in parts)
    assert "".join(plain_text(part) for part in parts) == "&" * 1000


def test_huge_link_target_degrades_to_plain_text_instead_of_failing() -> None:
    url = "https://example.org/" + "x" * 5000
    parts = split_message(f'<b>Start</b>\n<a href="{url}">Linktext</a>\nEnde', 1000)
    assert_parts_valid(parts, 1000)
    assert "Linktext" in "".join(plain_text(part) for part in parts)


def test_the_markup_checker_itself_catches_broken_parts() -> None:
    assert problems("<b>open") and problems("<b>x</i>") and problems("<b>a\nb</b>") and problems("a & b")
    assert problems("<br>") and problems("a < b")
    assert problems('<b>ok</b> <a href="https://x.org">&amp;</a>') == []


def test_limit_too_small_is_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        split_message("<b>x</b>", 10)


# --- property: any safe-HTML message, any limit ------------------------------------------------------------

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzäöüß🙂", min_size=1, max_size=40)
ENTITY = st.sampled_from(["&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&#128512;"])


@st.composite
def fragments(draw: st.DrawFn, depth: int = 0) -> str:
    pieces = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["word", "word", "space", "entity", "tag"] + (["newline"] if not depth else [])))
        if kind == "word":
            pieces.append(draw(WORD))
        elif kind == "space":
            pieces.append(" ")
        elif kind == "newline":
            pieces.append("\n")
        elif kind == "entity":
            pieces.append(draw(ENTITY))
        elif depth < 3:
            tag = draw(st.sampled_from(["b", "i", "code", "a"]))
            opening = f'<a href="https://x.org/{draw(WORD)}">' if tag == "a" else f"<{tag}>"
            pieces.append(f"{opening}{draw(fragments(depth + 1))}</{tag}>")
    return "".join(pieces)


@settings(max_examples=150, deadline=None)
@given(markup=st.lists(fragments(), min_size=1, max_size=30).map(" ".join), limit=st.integers(64, 400))
def test_any_message_splits_into_valid_parts_losing_only_whitespace(markup: str, limit: int) -> None:
    parts = split_message(markup, limit)
    assert_parts_valid(parts, limit)
    squeezed = re.sub(r"\s+", "", plain_text(markup))
    assert re.sub(r"\s+", "", "".join(plain_text(part) for part in parts)) == squeezed
