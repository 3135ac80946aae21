"""Limits checked on a document's bytes before any parser sees them.

feedparser, expat and ``json`` build the whole document in memory and expand what it declares, so the
attacks that work by size rather than by syntax must be stopped first: XML entity expansion ("billion
laughs", quadratic blowup), documents of hundreds of thousands of tiny elements (a feed of a million
``<item/>``), and JSON made of nothing but empty containers. Each check is a linear scan of the bytes.
External entities need no check here: feedparser's XML parser never resolves them (tests/hostile proves it).
"""

from __future__ import annotations

import re

MAX_XML_ELEMENTS = 250_000  # a 5 MB real feed has a few tens of thousands
MAX_FEED_ITEMS = 10_000  # real feeds list tens to hundreds; archives a few thousand
MAX_MARKUP_DEPTH = 1000  # real pages stay well under 100
MAX_ENTITY_DECLARATIONS = 100
MAX_ENTITY_EXPANSION = 1024 * 1024  # characters all declared entities may add to the document
# A corpus record or feed item is at least a title and a sentence; far more containers than that per byte
# means the JSON is built to exhaust memory (each empty ``{}`` costs ~100 bytes once parsed).
JSON_BYTES_PER_CONTAINER = 50
JSON_CONTAINER_ALLOWANCE = 1000

_ENTITY_START = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ENTITY_DECL = re.compile(
    rb"<!ENTITY\s+(%\s+)?([^\s%\"'>]+)\s+(?:(SYSTEM|PUBLIC)\b[^>]*|\"([^\"]*)\"|'([^']*)')\s*>",
    re.IGNORECASE,
)
_ENTITY_REFERENCE = re.compile(rb"&(?!#)")  # character references (&#169;) expand to one character
# A start or end tag, raw (groups 1-3) or escaped as text inside XML (groups 4-6); group 3/6 is "/" when
# the tag closes itself.
_ANY_TAG = re.compile(
    rb"<(/?)([A-Za-z][\w:.-]*)(?:[^<>]*?(/)>)?|&lt;(/?)([A-Za-z][\w:.-]*)(?:[^<>&]*?(/)&gt;)?"
)
_NOT_NESTING = frozenset(
    b"area base br col embed hr img input link meta source track wbr p li dt dd tr td th option".split()
)
_START_TAG = re.compile(rb"<[A-Za-z_]")
_ITEM_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s/>]", re.IGNORECASE)


def xml_refusal(data: bytes) -> str | None:
    """Why this XML document must not be parsed, or ``None``."""
    return _entity_refusal(data) or _size_refusal(data) or depth_refusal(data)


def depth_refusal(data: bytes) -> str | None:
    """Why this markup (XML, HTML, or HTML escaped inside XML) is nested too deeply to parse, or ``None``.

    HTML parsers, feedparser's sanitizer and lxml all slow down or pile up memory on deep trees, and no
    real page nests a thousand levels. Tags that close themselves or are usually left open do not count.
    """
    depth = {False: 0, True: 0}  # raw tags, escaped (&lt;div&gt;) tags
    for match in _ANY_TAG.finditer(data):
        escaped = match.group(4) is not None
        closing, name, self_closing = (match.group(4, 5, 6) if escaped else match.group(1, 2, 3))
        if self_closing or name.lower() in _NOT_NESTING:
            continue
        if closing:
            depth[escaped] = max(depth[escaped] - 1, 0)
            continue
        depth[escaped] += 1
        if depth[escaped] > MAX_MARKUP_DEPTH:
            return f"markup nested more than {MAX_MARKUP_DEPTH} levels deep"
    return None


def json_refusal(data: bytes) -> str | None:
    """Why this JSON document must not be parsed, or ``None``."""
    containers = data.count(b"{") + data.count(b"[")
    if containers > len(data) // JSON_BYTES_PER_CONTAINER + JSON_CONTAINER_ALLOWANCE:
        return f"JSON with {containers} objects/arrays in {len(data)} bytes is not article data"
    return None


def _size_refusal(data: bytes) -> str | None:
    elements = sum(1 for _ in _START_TAG.finditer(data))
    if elements > MAX_XML_ELEMENTS:
        return f"more than {MAX_XML_ELEMENTS} XML elements"
    items = sum(1 for _ in _ITEM_TAG.finditer(data))
    if items > MAX_FEED_ITEMS:
        return f"more than {MAX_FEED_ITEMS} feed items in one document"
    return None


def _entity_refusal(data: bytes) -> str | None:
    starts = sum(1 for _ in _ENTITY_START.finditer(data))
    if not starts:
        return None
    if starts > MAX_ENTITY_DECLARATIONS:
        return f"more than {MAX_ENTITY_DECLARATIONS} XML entity declarations"
    declarations = list(_ENTITY_DECL.finditer(data))
    if len(declarations) != starts:
        return "unreadable XML entity declaration"
    expansion = 0
    for match in declarations:
        parameter, name, external = match.group(1), match.group(2), match.group(3)
        value = match.group(4) if match.group(4) is not None else match.group(5)
        if external:
            continue  # never fetched nor expanded
        if parameter or _ENTITY_REFERENCE.search(value) or b"%" in value:
            # Entities built from entities are how expansion grows exponentially.
            return "XML entities defined through other entities (an entity-expansion attack)"
        expansion += len(value) * data.count(b"&" + name + b";")
        if expansion > MAX_ENTITY_EXPANSION:
            return "XML entities would expand the document by more than 1 MB (an entity-expansion attack)"
    return None
