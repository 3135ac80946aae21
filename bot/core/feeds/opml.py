"""OPML 1.0/2.0 subscription lists: reading the feed outlines, and writing the feed list back out."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

MAX_OUTLINES = 5000


class OpmlError(ValueError):
    """The file is not usable OPML; the message says why, for the admin."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    title: str | None = None


def parse_opml(data: bytes, *, max_feeds: int = MAX_OUTLINES) -> list[OpmlFeed]:
    """Every outline with an ``xmlUrl``, at any nesting depth (folders), in document order, first
    occurrence of each URL only. URLs are returned as written; callers validate them."""
    # defusedxml refuses entity declarations and external references outright ("billion laughs", XXE):
    # OPML never needs them. Writing (export_opml) only serialises our own data, so ElementTree is fine there.
    try:
        root = safe_fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise OpmlError("OPML files with entity declarations are not accepted") from None
    except ET.ParseError as exc:
        raise OpmlError(f"not well-formed XML ({exc})") from None
    if _local(root.tag) != "opml":
        raise OpmlError(f"not an OPML file (root element is <{_local(root.tag)}>)")
    body = next((el for el in root if _local(el.tag) == "body"), None)
    if body is None:
        raise OpmlError("OPML file has no <body>")
    feeds: list[OpmlFeed] = []
    seen: set[str] = set()
    for outline in body.iter():
        if _local(outline.tag) != "outline":
            continue
        url = _attr(outline, "xmlUrl")
        if not url or url in seen:
            continue
        if len(feeds) >= max_feeds:
            raise OpmlError(f"more than {max_feeds} feeds in one OPML file")
        seen.add(url)
        feeds.append(OpmlFeed(url, _attr(outline, "title") or _attr(outline, "text")))
    return feeds


def export_opml(feeds: Sequence[OpmlFeed], *, created: datetime, title: str = "newsalert feeds") -> bytes:
    """An OPML 2.0 document listing ``feeds`` (UTF-8, with XML declaration)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(created, usegmt=True)
    body = ET.SubElement(root, "body")
    for feed in feeds:
        label = feed.title or feed.url
        ET.SubElement(body, "outline", type="rss", text=label, title=label, xmlUrl=feed.url)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _local(tag: object) -> str:
    """Tag name without a namespace (some exporters put OPML in a default namespace)."""
    name = tag if isinstance(tag, str) else ""
    return name.rsplit("}", 1)[-1].lower()


def _attr(element: ET.Element, name: str) -> str | None:
    """Attribute lookup that tolerates exporters' case variants (``xmlurl``, ``XMLURL``)."""
    wanted = name.lower()
    for key, value in element.attrib.items():
        if key.rsplit("}", 1)[-1].lower() == wanted:
            text = " ".join(value.split())  # titles end up in one-line chat replies
            return text or None
    return None
