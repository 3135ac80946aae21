"""Lemmas earlier processes found, kept beside the lemma cache: a word seen before needs no dictionary at all.

One ``word TAB lemma`` line per lemma, appended as new ones are found, under a header naming the dictionary
they came from (a memo of another simplemma version is started afresh, never trusted).
"""

from __future__ import annotations

from pathlib import Path

MEMO_MAGIC = "NALEMMA1-memo"  # the header memo files have had since they lived in lemma_cache.py
MAX_MEMO = 200_000  # remembered lemmas per language (a few MB); beyond, new ones are not written


class LemmaMemo:
    """Lemmas earlier processes found, one ``word TAB lemma`` line each, appended as new ones are found: a
    query word seen before needs neither simplemma's import nor its dictionaries."""

    def __init__(self, path: Path, key: str) -> None:
        self._path = path
        self._header = f"{MEMO_MAGIC} {key}\n"
        known = _read_memo(path, self._header)
        self._fresh = known is not None  # ours: append to it; else it is (re)started with the header
        self._known = known or {}

    def get(self, word: str) -> str | None:
        return self._known.get(word)

    def add(self, word: str, lemma: str) -> None:
        self._known[word] = lemma
        if len(self._known) > MAX_MEMO or any(c in word or c in lemma for c in "\t\n\r"):
            return
        try:
            with self._path.open("a" if self._fresh else "w", encoding="utf-8", errors="strict") as out:
                out.write(("" if self._fresh else self._header) + f"{word}\t{lemma}\n")
            self._fresh = True
        except (OSError, UnicodeEncodeError):  # a read-only disk, an unpaired surrogate: just not remembered
            return


def _read_memo(path: Path, header: str) -> dict[str, str] | None:
    """The memo's entries; None when the file is missing or not ours (it is then started afresh)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if not text.startswith(header):
        return None
    known: dict[str, str] = {}
    for line in text[len(header) :].split("\n"):
        word, tab, lemma = line.partition("\t")
        if tab and word and lemma and "\t" not in lemma:  # a line cut short by a crash is skipped
            known[word] = lemma
    return known
