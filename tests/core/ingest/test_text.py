"""Decoding, cleaning, titles, the minimum-length rule and the dedup hash."""

from __future__ import annotations

import hashlib
import random
import re
import sys
import unicodedata

import pytest

from bot.core.ingest import content_hash, derive_title
from bot.core.ingest.text import (
    _CONTROL,
    _HSPACE,
    _ODD_CHARS,
    NotText,
    _ascii_hash_key,
    _ascii_word_letters,
    _checked_url,
    _unicode_hash_key,
    clean_line,
    clean_text,
    clean_url,
    decode_bytes,
    has_space_or_control,
    hash_key,
    is_long_enough,
    word_chars,
)
from bot.core.models import ArticleDraft


def test_utf8_with_and_without_bom_is_not_a_repair() -> None:
    assert decode_bytes("Grüße".encode()).text == "Grüße"
    decoded = decode_bytes(b"\xef\xbb\xbf" + "Grüße".encode())
    assert (decoded.text, decoded.repair) == ("Grüße", "")


def test_cp1252_bytes_are_repaired_and_said_so() -> None:
    decoded = decode_bytes("Grüße – „Zitat“".encode("cp1252"))
    assert decoded.text == "Grüße – „Zitat“"
    assert decoded.repair == "decoded as cp1252"


def test_bytes_cp1252_cannot_map_fall_back_to_latin1() -> None:
    decoded = decode_bytes(b"Caf\xe9 \x81 ok")
    assert decoded.repair == "decoded as latin-1"
    assert decoded.text.startswith("Café")


def test_utf16_with_bom_is_text() -> None:
    assert decode_bytes("Kim trifft Putin".encode("utf-16")).text == "Kim trifft Putin"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"abc\x00def", "binary file (contains NUL bytes)"),
        (b"%PDF-1.7 something", "binary file (PDF)"),
        (b"\x89PNG\r\n\x1a\n", "binary file (PNG image)"),
        (bytes(range(1, 32)) * 50, "not a text file (undecodable bytes)"),
    ],
)
def test_binary_data_is_not_text(data: bytes, reason: str) -> None:
    with pytest.raises(NotText) as caught:
        decode_bytes(data)
    assert str(caught.value) == reason


def test_clean_text_keeps_paragraphs_and_drops_noise() -> None:
    raw = "  Erste\u00a0Zeile \r\nzweite\tZeile\x07\r\n\r\n\r\n\r\n  Absatz  zwei  \n"
    assert clean_text(raw) == "Erste Zeile\nzweite Zeile\n\nAbsatz zwei"


def test_derive_title_takes_the_first_sentence_without_full_stop() -> None:
    body = "Kim Jong-Un verlässt sein Land nur ungern. Jetzt soll er nach Russland reisen."
    assert derive_title(body) == "Kim Jong-Un verlässt sein Land nur ungern"


def test_derive_title_uses_a_headline_line_as_is() -> None:
    assert derive_title("\n\nPutin meets Kim\n\nThe two leaders met on Wednesday.") == "Putin meets Kim"


def test_derive_title_does_not_split_at_ordinals_or_abbreviations() -> None:
    body = "Am 4. September traf Dr. Müller den Minister in Berlin. Danach reiste er ab."
    assert derive_title(body) == "Am 4. September traf Dr. Müller den Minister in Berlin"


def test_derive_title_keeps_questions_and_exclamations() -> None:
    assert derive_title("Is this the end? Nobody knows yet.") == "Is this the end?"


def test_long_titles_are_cut_at_a_word_boundary() -> None:
    body = " ".join(["Wort"] * 60) + "."
    title = derive_title(body)
    assert len(title) <= 120
    assert title.endswith("Wort…")


def test_derive_title_of_nothing_is_empty() -> None:
    assert derive_title("  \n \n") == ""


def test_word_chars_ignores_punctuation_and_layout() -> None:
    assert word_chars("Kim, Putin!  —  Russland.") == len("Kim Putin Russland")
    assert not is_long_enough("Kurz. Zu kurz! ... ??? --- !!!")
    assert is_long_enough("Kim Jong-Un reist nach Russland zu Putin, heißt es.")


def _draft(title: str, body: str) -> ArticleDraft:
    return ArticleDraft(title=title, body=body, lang="de")


def test_content_hash_ignores_trivial_edits() -> None:
    original = _draft("Kim trifft Putin", 'Er sagte: "Wir liefern Waffen." Das ist neu.')
    edited = _draft("KIM  trifft Putin!", "Er sagte: „Wir liefern Waffen“ – das ist neu…\n")
    fullwidth = _draft("Ｋｉｍ trifft Putin", "Er sagte: Wir liefern Waffen. Das ist neu.")
    assert content_hash(original) == content_hash(edited) == content_hash(fullwidth)


def test_content_hash_changes_with_the_words() -> None:
    base = _draft("Kim trifft Putin", "Er sagte: Wir liefern Waffen.")
    assert content_hash(base) != content_hash(_draft("Kim trifft Putin", "Er sagte: Wir liefern keine Waffen."))
    assert content_hash(base) != content_hash(_draft("Kim trifft Xi", "Er sagte: Wir liefern Waffen."))
    assert len(content_hash(base)) == 64


def test_space_or_control_test_agrees_with_the_per_character_rule() -> None:
    # The fast test must reject exactly what "any whitespace or category C character" rejected: every
    # code point of the BMP, and a spread over the planes above it (held equal over all of them when written).
    for code in [*range(0x10000), *range(0x10000, sys.maxunicode + 1, 61)]:
        char = chr(code)
        expected = char.isspace() or unicodedata.category(char)[0] == "C"
        assert has_space_or_control(f"a{char}b") is expected, hex(code)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.bbc.co.uk/news/uk-64137439?at_medium=RSS&at_campaign=KARANGA",
        "HTTP://Example.COM",
        "http://example.com#top",
        "https://example.com?q=1",
        "http://a.b-c.de/path/",
        "httpſ://example.com/",  # long s: not "https"
        "https://examp\u212ae.com/",  # Kelvin sign in the host
        "https://user:pw@example.com/",
        "https://example.com:8443/x",
        "https://example.com:99999/x",
        "https://[::1]/x",
        "https://[::1/x",
        "https://example.com\\@evil.com/",
        "https:///path",
        "https://",
        "ftp://example.com/",
        "javascript:alert(1)",
        "//example.com/x",
        "https://bücher.example/x",
        "https://xn--bcher-kva.example/x",
        "https://...",
    ],
)
def test_fast_path_of_clean_url_keeps_what_the_full_parse_keeps(url: str) -> None:
    assert clean_url(url) == _checked_url(url)


@pytest.mark.parametrize(
    "text",
    [
        "Kim fires his No. 2\n\nThe leader's \"purge\" -- 3 officials_out, 10% more!",
        "  UPPER lower MiXeD_under__score\t\x0bvertical\x1ftab  ",
        "a\x00b\x7fc ... ---",
        "",
        "___",
    ],
)
def test_ascii_hash_key_is_the_general_one(text: str) -> None:
    assert _ascii_hash_key(text) == hash_key(text).encode("ascii")


def test_every_character_clean_line_removes_is_unprintable() -> None:
    # clean_line skips its regex for printable text; that is exact only while this holds.
    codes = [*range(0x10000), *range(0xE0000, 0xE0080)]  # the class lies in the BMP and the tag block
    removed = [chr(code) for code in codes if _CONTROL.fullmatch(chr(code))]
    assert removed and not any(char.isprintable() for char in removed)
    assert clean_line("Pu\u200btin\u00ad  meets\tKim") == "Putin meets Kim"
    assert clean_line("a\u200cb") == "ab"  # a joiner between Latin letters goes (lookbehind alternative)


def test_unicode_hash_key_separators_are_what_the_regex_removes() -> None:
    # The fast path treats a non-ASCII character as a separator when it is not str.isalnum: exact only
    # while that is the regex's [\W_] for every code point.
    every = "".join(chr(code) for code in range(0x80, 0x110000) if not 0xD800 <= code < 0xE000)
    by_regex = "".join(re.findall(r"[\W_]", every))
    assert len(by_regex) > 100_000
    assert by_regex == "".join(char for char in every if not char.isalnum())


@pytest.mark.parametrize(
    "text",
    [
        "Kim’s “purge” — 3 officials_out… ½ ﬁ Ⅻ",
        "Pjöngjang:\u00a0Straße «Zitat» ‚Anführung‘ · „x“ –",
        "Путин и Ким\u2028встретились\u3000сегодня。",
        "".join(chr(code) for code in range(0x2000, 0x2070)) + " many separators: the regex fallback",
        "é",
    ],
)
def test_unicode_hash_key_is_the_general_one(text: str) -> None:
    assert _unicode_hash_key(text) == hash_key(text).encode("utf-8")


@pytest.mark.parametrize(
    "text",
    ["Kim’s “purge” — 3 officials out…", "Pjöngjang: Straße ﬁ ½ Ⅻ", "„Zitat“ – ‚Anführung‘ «guillemets» ·", ""],
)
def test_content_hash_of_unicode_text_is_unchanged(text: str) -> None:
    draft = ArticleDraft(title="T", body=text, lang="de")
    expected = hashlib.sha256(hash_key(f"T\n{text}").encode("utf-8")).hexdigest()
    assert content_hash(draft) == expected


def test_ascii_word_letters_is_a_lower_bound_of_word_chars() -> None:
    for text in ["a" * 50, "a. " * 30, "___ --- ...", "x_y z" * 20, "no", "Ünïcode words here"]:
        letters = _ascii_word_letters(text)
        assert letters <= word_chars(text)
        assert letters == (0 if not text.isascii() else sum(c.isalnum() or c == "_" for c in text))
    assert is_long_enough("a, " * 40) and not is_long_enough("., " * 40)


def _clean_text_by_regex(text: str) -> str:
    """clean_text as it was written before its fast paths: every pass a regex."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _HSPACE.sub(" ", _CONTROL.sub("", text))
    text = re.sub(r"  +", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def test_every_odd_character_is_unprintable_and_no_line_break() -> None:
    # clean_text skips the _ODD_CHARS regex for a text that is printable once its line breaks are spaces.
    odd = [chr(code) for code in range(sys.maxunicode + 1) if _ODD_CHARS.match(chr(code))]
    assert len(odd) > 100 and "\n" not in odd
    assert not any(char.isprintable() for char in odd)


def test_clean_text_equals_the_regex_passes() -> None:
    pieces = [" ", "  ", "\n", "\n\n\n", "\r\n", "\r", "\t", "\u00a0", "\u200b", "\u2028", "Wort", "ä", "„x“", "\x07"]
    rng = random.Random(15)
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 30))) for _ in range(20_000)]
    texts += ["  Erste Zeile  \n  zweite \n\n\n\n Absatz ", " \n\n\n a", "a \n", "\n b", "x" * 50]
    for text in texts:
        assert clean_text(text) == _clean_text_by_regex(text), repr(text)
