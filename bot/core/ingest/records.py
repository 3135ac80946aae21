"""Corpus records (``{id,title,text,date,source,lang,url}``) from JSONL streams and JSON arrays."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from typing import IO, Any

from bot.core.ingest.dates import BadDate, parse_date
from bot.core.ingest.guard import json_refusal
from bot.core.ingest.items import DraftFields, ParsedItem, build_item, rejected
from bot.core.ingest.text import decode_bytes

MAX_LINE_BYTES = 4 * 1024 * 1024  # one article; a longer "line" is a broken or hostile file
_TEXT_KEYS = ("text", "body", "content")
_DATE_KEYS = ("date", "published", "date_published")
_DECODER = json.JSONDecoder()
_UTF8_BOM = b"\xef\xbb\xbf"


def iter_jsonl(stream: IO[bytes], label: str, *, default_source: str | None = None) -> Iterator[ParsedItem]:
    """One ParsedItem per non-blank line (``label:N``), read line by line so corpora never sit in memory."""
    lineno = 0
    while True:
        where = f"{label}:{lineno + 1}"
        try:
            line = stream.readline(MAX_LINE_BYTES + 1)
            if len(line) > MAX_LINE_BYTES:
                _skip_rest_of_line(stream)
        except (OSError, EOFError, zlib.error) as exc:
            yield rejected(where, f"file is corrupt from here on ({exc or type(exc).__name__}); rest skipped")
            return
        if not line:
            return
        lineno += 1
        if len(line) > MAX_LINE_BYTES:
            yield rejected(where, f"line too long (over {MAX_LINE_BYTES // (1024 * 1024)} MB)")
        elif line.strip():
            yield jsonl_line(where, line, default_source=default_source)


def _skip_rest_of_line(stream: IO[bytes]) -> None:
    while True:
        chunk = stream.readline(MAX_LINE_BYTES)
        if not chunk or chunk.endswith(b"\n"):
            return


def jsonl_line(where: str, line: bytes, *, default_source: str | None = None) -> ParsedItem:
    refusal = json_refusal(line)
    if refusal:
        return rejected(where, f"refused: {refusal}")
    repairs: list[str] = []
    try:
        try:
            record = _loads(line.rstrip(b"\r\n"))  # so error columns refer to the line as written
        except UnicodeDecodeError:
            decoded = decode_bytes(line)
            repairs.append(decoded.repair)
            record = json.loads(decoded.text)
    except json.JSONDecodeError as exc:
        return rejected(where, f"invalid JSON: {exc.msg} (column {exc.colno})")
    except ValueError as exc:  # NotText, or JSON nested too deeply for the parser
        return rejected(where, f"invalid line: {exc}")
    except RecursionError:
        return rejected(where, "invalid JSON: nested too deeply")
    return record_item(where, record, default_source=default_source, repairs=repairs)


def _loads(line: bytes) -> object:
    """``json.loads`` of one line. A corpus line is UTF-8: decoded at once, not after json's guess of the
    encoding in Python (≈ 10 % of parsing a short record); a BOM or NUL bytes (UTF-16/32) take json's way."""
    if line.startswith(_UTF8_BOM) or b"\x00" in line:
        return json.loads(line)
    return _DECODER.decode(line.decode("utf-8"))


def record_item(
    where: str, record: object, *, default_source: str | None = None, repairs: list[str] | None = None
) -> ParsedItem:
    """Map one corpus record to a draft; missing titles are derived (from ``lead`` when present)."""
    if not isinstance(record, dict):
        return rejected(where, f"expected a JSON object, got {_json_type(record)}")
    text = _first_present(record, _TEXT_KEYS)
    if text is None:
        return rejected(where, "no text (the record has no 'text' field or it is empty)")
    if not isinstance(text, str):
        return rejected(where, f"'text' must be a string, got {_json_type(text)}")
    fields = DraftFields(
        body=text,
        title=_string(record.get("title")),
        lang=_string(record.get("lang")) or _string(record.get("language")),
        source=_string(record.get("source")) or default_source,
        url=_string(record.get("url")),
        guid=_identifier(record.get("id")),
        teaser_only=record["teaser_only"] if isinstance(record.get("teaser_only"), bool) else None,
        title_hint=_string(record.get("lead")) or "",
        repairs=list(repairs or ()),
    )
    date_value = _first_present(record, _DATE_KEYS)
    try:
        fields.published = parse_date(date_value).day
    except BadDate as exc:
        fields.repairs.append(f"ignored {exc}")
    return build_item(where, fields)


def json_records(label: str, document: Any, *, default_source: str | None = None) -> list[ParsedItem]:
    """A JSON array of records (``label[N]``) or one record object."""
    if isinstance(document, list):
        return [
            record_item(f"{label}[{index}]", record, default_source=default_source)
            for index, record in enumerate(document)
        ]
    if isinstance(document, dict) and any(key in document for key in _TEXT_KEYS):
        return [record_item(label, document, default_source=default_source)]
    return [rejected(label, "JSON is neither a JSON Feed nor article records ({title, text, …})")]


def _first_present(record: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = record.get(key)
        if value is not None and value != "":
            return value
    return None


def _string(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _identifier(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | str):
        return str(value).strip() or None
    return None


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
