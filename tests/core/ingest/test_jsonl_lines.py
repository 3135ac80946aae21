"""One JSONL line is decoded as UTF-8 at once; the lines that are not plain UTF-8 keep json's and the
repair path's answers."""

from __future__ import annotations

import json

from bot.core.ingest.records import jsonl_line
from bot.core.lang import normalise_lang

TEXT = "Der Kreml hat am Montag neue Gespräche über Waffenlieferungen angekündigt, sagte ein Sprecher."


def _line(**fields: object) -> bytes:
    return json.dumps({"title": "Kreml", "text": TEXT, **fields}, ensure_ascii=False).encode() + b"\n"


def test_a_utf8_line_is_an_article() -> None:
    item = jsonl_line("c.jsonl:1", _line(lang="de-DE"))
    assert item.ok and item.reason == ""
    assert item.draft is not None and item.draft.body == TEXT and item.draft.lang == "de"


def test_a_line_with_a_bom_is_read_as_json_reads_it() -> None:
    item = jsonl_line("c.jsonl:1", b"\xef\xbb\xbf" + _line())
    assert item.ok and item.draft is not None and item.draft.title == "Kreml"


def test_a_cp1252_line_is_repaired_and_says_so() -> None:
    item = jsonl_line("c.jsonl:1", _line().decode().encode("cp1252"))
    assert item.ok and item.draft is not None and "ü" in item.draft.body
    assert item.reason == "decoded as cp1252"


def test_a_utf16_line_is_read_as_json_reads_it() -> None:
    item = jsonl_line("c.jsonl:1", _line().decode().encode("utf-16-le"))
    assert item.ok and item.draft is not None and item.draft.body == TEXT


def test_broken_json_names_the_column_of_the_line_as_written() -> None:
    item = jsonl_line("c.jsonl:7", b'{"title": "x", "text": }\r\n')
    assert not item.ok and item.reason == "invalid JSON: Expecting value (column 24)"


def test_language_values_are_the_same_cached_or_not() -> None:
    for value in ("de", " DE-de ", "English", "deutsch", "en_US", "xx-yy-zz", "", "de" * 30, "Deutsch" + " " * 40):
        assert normalise_lang(value) == normalise_lang(value)  # the second answer comes from the cache
    assert normalise_lang(" DE-de ") == "de" and normalise_lang("English") == "en"
    assert normalise_lang("de" * 30) is None and normalise_lang("Deutsch" + " " * 40) == "de"
    assert normalise_lang(42) is None
