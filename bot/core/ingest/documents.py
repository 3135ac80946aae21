"""One document's bytes → ParsedItems, whatever the format: the dispatcher behind files and uploads."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from pathlib import PurePath

from bot.core.ingest.dates import BadDate, parse_date
from bot.core.ingest.feeds import JSON_FEED_PREFIX, parse_feed_bytes
from bot.core.ingest.guard import depth_refusal, json_refusal
from bot.core.ingest.htmlpage import decode_html, html_fields
from bot.core.ingest.items import DraftFields, ParsedItem, build_item, rejected
from bot.core.ingest.markdown import parse_markdown
from bot.core.ingest.records import iter_jsonl, json_records
from bot.core.ingest.seed import parse_seed_text
from bot.core.ingest.text import Decoded, NotText, binary_kind, decode_bytes

TEXT, MARKDOWN, HTML, JSONL, JSON, FEED = "text", "markdown", "html", "jsonl", "json", "feed"
EXTENSIONS: dict[str, str] = {
    ".txt": TEXT,
    ".text": TEXT,
    ".md": MARKDOWN,
    ".markdown": MARKDOWN,
    ".html": HTML,
    ".htm": HTML,
    ".xhtml": HTML,
    ".jsonl": JSONL,
    ".ndjson": JSONL,
    ".json": JSON,
    ".xml": FEED,
    ".rss": FEED,
    ".atom": FEED,
    ".rdf": FEED,
}
GZIP_MAGIC = b"\x1f\x8b"
_MB = 1024 * 1024
_SNIFF_CHARS = 2048


def supported_types() -> str:
    return ", ".join([*EXTENSIONS, ".gz"])


def format_of(name: str) -> str | None:
    """The format an extension names (``.gz`` looks at the inner name), or None when unknown."""
    return EXTENSIONS.get(PurePath(inner_name(name)).suffix.lower())


def inner_name(name: str) -> str:
    return name[:-3] if name.lower().endswith(".gz") else name


def unsupported(name: str) -> str:
    suffix = PurePath(inner_name(name)).suffix.lower()
    what = f"'{suffix}'" if suffix else "(no extension)"
    return f"unsupported file type {what}; supported: {supported_types()}"


def too_large(size: int, limit: int) -> str:
    """ "file too large: 50.0 MB > 20 MB limit"."""
    return f"file too large: {human_size(size)} > {human_size(limit).replace('.0 ', ' ')} limit"


def human_size(size: int) -> str:
    if size >= _MB:
        return f"{size / _MB:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} bytes"


def sniff_format(data: bytes) -> str | None:
    """Guess the format of an upload without a telling name; None for binary data."""
    if binary_kind(data):
        return None
    head = data[: _SNIFF_CHARS * 2].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"{"):
        if b'"version"' in head and JSON_FEED_PREFIX.encode() in head:
            return JSON
        first, _, rest = head.partition(b"\n")
        return JSONL if rest.lstrip().startswith(b"{") or first.rstrip().endswith(b"}") else JSON
    if head.startswith(b"["):
        return JSON
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:512]:
        return HTML
    if head.startswith(b"<") and any(tag in head for tag in (b"<rss", b"<feed", b"<rdf:rdf", b"<channel")):
        return FEED
    if head.startswith(b"<"):
        return HTML
    return TEXT


def gunzip(data: bytes, limit: int) -> bytes:
    """Decompress at most ``limit`` bytes; raises ValueError with a clear message on corrupt or huge input."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            out = stream.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"corrupt gzip file: {exc or type(exc).__name__}") from None
    if len(out) > limit:
        limit_text = human_size(limit).replace(".0 ", " ")
        raise ValueError(f"file too large: decompressed content exceeds the {limit_text} limit")
    return out


def parse_document(name: str, data: bytes, *, max_bytes: int = 5 * _MB) -> list[ParsedItem]:
    """One uploaded file: format from its name, else from its content. Never raises."""
    if len(data) > max_bytes:
        return [rejected(name, too_large(len(data), max_bytes))]
    if data.startswith(GZIP_MAGIC):
        try:
            data = gunzip(data, max_bytes)
        except ValueError as exc:
            return [rejected(name, str(exc))]
    elif name.lower().endswith(".gz"):
        return [rejected(name, "not a gzip file (the name ends in .gz)")]
    fmt = format_of(name) or sniff_format(data)
    if fmt is None:
        return [rejected(name, binary_kind(data) or unsupported(name))]
    return parse_bytes(name, fmt, data)


def parse_bytes(label: str, fmt: str, data: bytes) -> list[ParsedItem]:
    """Bytes of a known format (already decompressed) → items; ``label`` names them in reasons."""
    if not data:
        return [rejected(label, "empty file")]
    if not data.strip():
        return [rejected(label, "file contains only whitespace")]
    kind = binary_kind(data)
    if kind:
        return [rejected(label, kind)]
    display = PurePath(label).name or label
    refusal = depth_refusal(data) if fmt == HTML else None
    if refusal:
        return [rejected(label, f"refused: {refusal}")]
    if fmt == FEED:
        return parse_feed_bytes(data, source=label).drafts() or [rejected(label, "feed lists no items")]
    if fmt == JSONL:
        return list(iter_jsonl(io.BytesIO(data), label, default_source=display))
    try:
        decoded = decode_html(data) if fmt == HTML else decode_bytes(data)
    except NotText as exc:
        return [rejected(label, str(exc))]
    if not decoded.text.strip():
        return [rejected(label, "file contains only whitespace")]
    if fmt == JSON:
        return _json_document(label, data, decoded, display)
    fields = _text_fields(fmt, decoded, display)
    if fmt == HTML and not fields.body.strip():
        return [rejected(label, "no article text found in the page")]
    return [build_item(label, fields)]


def _text_fields(fmt: str, decoded: Decoded, display: str) -> DraftFields:
    repairs = [decoded.repair] if decoded.repair else []
    fields = html_fields(decoded.text) if fmt == HTML else _seedlike_fields(fmt, decoded.text, repairs)
    fields.source = display
    fields.repairs = repairs + fields.repairs
    fields.teaser_only = False  # a short document is still the whole article
    return fields


def _seedlike_fields(fmt: str, text: str, repairs: list[str]) -> DraftFields:
    seed = parse_seed_text(text)
    if seed.warning:
        repairs.append(seed.warning)
    if fmt != MARKDOWN:
        return DraftFields(body=seed.body, published=seed.published)
    markdown = parse_markdown(seed.body)
    fields = DraftFields(body=markdown.body, title=markdown.title or markdown.meta.get("title"))
    fields.published = seed.published
    if fields.published is None and markdown.meta.get("date"):
        try:
            fields.published = parse_date(markdown.meta["date"]).day
        except BadDate as exc:
            repairs.append(f"ignored front-matter {exc}")
    return fields


def _json_document(label: str, data: bytes, decoded: Decoded, display: str) -> list[ParsedItem]:
    refusal = json_refusal(data)
    if refusal:
        return [rejected(label, f"refused: {refusal}")]
    try:
        document = json.loads(decoded.text)
    except json.JSONDecodeError as exc:
        return [rejected(label, f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")]
    except RecursionError:
        return [rejected(label, "invalid JSON: nested too deeply")]
    if isinstance(document, dict) and "version" in document:
        return parse_feed_bytes(data, source=label).drafts() or [rejected(label, "feed lists no items")]
    return json_records(label, document, default_source=display)
