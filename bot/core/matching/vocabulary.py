"""The bilingual news vocabulary: German ↔ English words by sense, read from ``config/vocabulary/*.tsv``.

Format (one row per sense; TAB-separated columns; alternatives inside a column separated by `` | ``)::

    # comment lines start with '#'; the first other line may be the header
    de	en	sense	context
    Granate	shell~ | grenade	explosive projectile	artillery | mortar | Artillerie

A trailing ``~`` marks a word that means something else outside this sense: it counts only with one of the
row's ``context`` terms nearby. ``sense`` is a short English gloss, ``-`` when there is none.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import config
from bot.core.matching.normalize import STOPWORDS, normalize

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

HEADER = ("de", "en", "sense", "context")
EMPTY = "-"
WEAK_MARK = "~"


class VocabularyError(ValueError):
    """A vocabulary file breaks the format; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Word:
    text: str  # as written, without the mark
    norm: str
    lang: str
    weak: bool  # counts only with context


@dataclass(frozen=True, slots=True)
class Sense:
    id: int
    words: tuple[Word, ...]  # German first, then English
    gloss: str | None
    context: tuple[str, ...]  # as written, either language
    origin: str  # "military.tsv:12", for explanations and errors

    def in_lang(self, lang: str) -> tuple[Word, ...]:
        return tuple(w for w in self.words if w.lang == lang)

    def english_tokens(self) -> frozenset[str]:
        """Content words of the English translations: a compound whose own entry shares one is transparent."""
        return frozenset(t for w in self.in_lang("en") for t in w.norm.split() if t not in STOPWORDS)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    # A tuple when built from the sources; read from the cache, senses are made when looked up.
    senses: Sequence[Sense] = ()
    by_norm: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # normalised word → sense ids

    @classmethod
    def load(cls, folder: Traversable | None = None, cache_dir: Path | None = None) -> Vocabulary:
        """Every ``*.tsv`` of ``folder`` (default: the shipped ``config/vocabulary``); none: an empty one.
        ``cache_dir``: keep the built vocabulary there and read it back while the sources are unchanged."""
        folder = folder or Path(config.__file__).parent / "vocabulary"
        if not folder.is_dir():
            return cls()
        files = sorted((f for f in folder.iterdir() if f.name.endswith(".tsv")), key=lambda f: f.name)
        if cache_dir is None:
            return cls.from_files(files)
        from bot.core.matching.datacache import cached_vocabulary  # it imports this module

        return cached_vocabulary(cache_dir, files, lambda: cls.from_files(files))

    @classmethod
    def from_files(cls, files: Iterable[Traversable]) -> Vocabulary:
        rows: list[tuple[str, int, list[str]]] = []
        for file in files:
            rows.extend((file.name, number, cells) for number, cells in _rows(file))
        return cls.from_rows(rows)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, int, list[str]]]) -> Vocabulary:
        senses = [_sense(i, f"{name}:{number}", cells) for i, (name, number, cells) in enumerate(rows)]
        index: dict[str, list[int]] = {}
        for sense in senses:
            for word in sense.words:
                ids = index.setdefault(word.norm, [])
                if sense.id not in ids:
                    ids.append(sense.id)
        return cls(tuple(senses), {k: tuple(v) for k, v in index.items()})

    def lookup(self, norm: str) -> tuple[Sense, ...]:
        return tuple(self.senses[i] for i in self.by_norm.get(norm, ()))

    def __len__(self) -> int:
        return len(self.senses)


def _rows(file: Traversable) -> Iterator[tuple[int, list[str]]]:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VocabularyError(f"{file.name}: cannot read: {exc}") from None
    header_seen = False
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if not header_seen:
            header_seen = True
            if tuple(c.casefold() for c in cells) == HEADER:  # optional: the columns are fixed anyway
                continue
        if len(cells) != len(HEADER):
            raise VocabularyError(f"{file.name}:{number}: {len(cells)} columns, want {len(HEADER)} (TAB-separated)")
        if any(not c for c in cells):
            raise VocabularyError(f"{file.name}:{number}: empty column (write - for none)")
        yield number, cells


def _sense(sense_id: int, origin: str, cells: list[str]) -> Sense:
    de, en, gloss, context = cells
    words = [*_words(de, "de", origin), *_words(en, "en", origin)]
    if not any(w.lang == "de" for w in words) or not any(w.lang == "en" for w in words):
        raise VocabularyError(f"{origin}: needs a German and an English word")
    contexts = tuple(_alternatives(context))
    if any(w.weak for w in words) and not contexts:
        raise VocabularyError(f"{origin}: a word marked ~ needs context terms")
    return Sense(sense_id, tuple(words), None if gloss == EMPTY else gloss, contexts, origin)


def _alternatives(cell: str) -> list[str]:
    return [] if cell == EMPTY else [a.strip() for a in cell.split("|") if a.strip()]


def _words(cell: str, lang: str, origin: str) -> Iterator[Word]:
    for alternative in _alternatives(cell):
        weak = alternative.endswith(WEAK_MARK)
        text = alternative.rstrip(WEAK_MARK).strip()
        norm = normalize(text)
        if not norm:
            raise VocabularyError(f"{origin}: {alternative!r} has no letters")
        yield Word(text, norm, lang, weak)
