"""Recognising feed items across polls, and whether an edited item is worth a second alert."""

from __future__ import annotations

import hashlib
import re
from collections import Counter

SUBSTANTIAL_BELOW = 0.8  # token similarity under which an edit counts as a new story
_TOKEN = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def item_key(guid: str | None, url: str | None, title: str | None) -> str | None:
    """A stable identity for an item within its feed: the GUID, else the link, else the title.

    Prefixes keep a GUID that happens to equal another item's link from colliding with it.
    """
    if guid and guid.strip():
        return "guid:" + guid.strip()
    if url and url.strip():
        return "link:" + url.strip()
    if title and title.strip():
        return "title:" + hashlib.sha256(_normal(title).encode("utf-8")).hexdigest()[:32]
    return None


def item_fingerprint(title: str, text: str) -> str:
    """Hash of what the feed says about an item, whitespace- and case-insensitive, so re-serialised but
    unchanged items are recognised as unchanged."""
    payload = _normal(title) + "\x00" + _normal(text)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def token_similarity(a: str, b: str) -> float:
    """Multiset Jaccard similarity of the word tokens (1.0 = same words, same counts). Linear time, so
    long articles are cheap; word order is ignored on purpose (a moved paragraph is not news)."""
    left = Counter(t.casefold() for t in _TOKEN.findall(a))
    right = Counter(t.casefold() for t in _TOKEN.findall(b))
    if not left and not right:
        return 1.0
    shared = sum((left & right).values())
    total = sum((left | right).values())
    return shared / total


def is_substantial_change(
    old_title: str, old_text: str, new_title: str, new_text: str, *, threshold: float = SUBSTANTIAL_BELOW
) -> bool:
    """An edit deserves a new alert when the headline changed or the text changed by more than a typo
    fix or a timestamp (token similarity below ``threshold``)."""
    if _normal(old_title) != _normal(new_title):
        return True
    return token_similarity(old_text, new_text) < threshold
