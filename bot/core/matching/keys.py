"""Which lexicon entities an article names, as stable keys ("entity:putin") that can be stored.

The keys are those of ``CompiledQuery.atoms[...].key`` for entity terms, so a one-entity query can be
answered from what was stored at ingest instead of re-reading the archive. Weak names count only with
support, exactly as in matching, because the keys come from the same ``ArticleView.present``.
"""

from __future__ import annotations

import threading

from bot.core.matching.engine import ArticleView
from bot.core.matching.lexicon import Lexicon
from bot.core.matching.scanner import Scanner

ENTITY_PREFIX = "entity:"


def entity_key(entry_id: str) -> str:
    return ENTITY_PREFIX + entry_id


def entity_id(key: str) -> str | None:
    return key[len(ENTITY_PREFIX) :] if key.startswith(ENTITY_PREFIX) else None


def entity_keys(view: ArticleView) -> tuple[str, ...]:
    """The entities present in a scanned article (free-text terms of subscriptions are left out: which
    ones exist depends on the subscriptions of the moment, so they are not a stable fact to store)."""
    scanner = view.scanner
    return tuple(sorted(entity_key(scanner.entry_ids[t]) for t in view.present if scanner.is_entry(t)))


class KeyScanner:
    """Entity keys of articles nobody has scanned yet (stored before trends existed, or archived without
    matching). A scanner of its own, lexicon only, so it never rebuilds when subscriptions change."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._lexicon = lexicon
        self._scanner = Scanner(lexicon)
        self._lock = threading.Lock()  # the automaton is built lazily on the first scan

    def keys(self, text: str, lang: str | None = None) -> tuple[str, ...]:
        with self._lock:
            return entity_keys(ArticleView(self._lexicon, self._scanner, text, lang))
