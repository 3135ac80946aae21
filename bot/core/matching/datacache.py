"""A derived cache of the shipped lexicon and vocabulary: their parsed, normalised form in the cache folder.

Building them from ``config/`` (TOML parsing, about 30,000 normalisations, 35,000 objects) is most of what a
``newsalert match`` costs. The cache keeps the result in our own text format, one file each, which a start
reads in a few milliseconds; the vocabulary's senses are made into objects only when a query looks one up.

The cache is never required: a missing, stale, foreign, cut or damaged file is rebuilt from the sources, and
where it cannot be written the sources are used as they are. A file belongs to one key: a hash of the source
files, of the code that derives the data from them (this module, the loaders, the normaliser) and of
newsalert's version, so an edit of either is never answered from an old file. It holds text only (JSON for
the lexicon, tab-separated lines for the vocabulary): a tampered file can give wrong data, never run code.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from bot.core.matching.lexicon import Entry, Form, Lexicon
from bot.core.matching.vocabulary import Sense, Vocabulary, Word

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

log = logging.getLogger(__name__)

MAGIC = "NADATA1"
# The code whose output the cache holds: a change to any of them makes every old file stale.
DERIVING_MODULES = (
    "bot.core.matching.normalize",
    "bot.core.matching.lexicon",
    "bot.core.matching.vocabulary",
    __name__,
)
# Vocabulary rows: fields by TAB, words' parts by US, alternatives by "|"; none can occur in the data
# (the source is TAB-separated lines with "|" between alternatives; see _clean).
FIELD, PART, ALT = "\t", "\x1f", "|"
T = TypeVar("T")


def source_key(kind: str, files: Sequence[Traversable]) -> str | None:
    """The hash a cache file of ``files`` must carry; None when a source cannot be read (the loader then
    reports it) or the code is not in files (a frozen build): no cache then."""
    import hashlib

    import bot

    digest = hashlib.sha256(f"{MAGIC}\0{kind}\0{bot.__version__}".encode())
    try:
        for name in DERIVING_MODULES:
            digest.update(b"\0" + Path(sys.modules[name].__file__ or "").read_bytes())
        for file in files:
            digest.update(f"\0{file.name}\0".encode() + file.read_bytes())
    except (OSError, KeyError):
        return None
    return digest.hexdigest()


def cache_file(folder: Path, kind: str, key: str) -> Path:
    return folder / f"{kind}-{key[:16]}.cache"


def read_payload(path: Path, key: str) -> str | None:
    """The text a cache file holds if it is ours, made from ``key`` and whole; else None."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    head, _, body = raw.partition(b"\n")
    try:
        magic, found, crc, length = head.decode("ascii").split(" ")
        if magic != MAGIC or found != key or int(length) != len(body) or int(crc) != zlib.crc32(body):
            return None
        return body.decode("utf-8")
    except ValueError:  # a foreign header, or not UTF-8 (UnicodeDecodeError is a ValueError)
        return None


def write_payload(path: Path, key: str, payload: str) -> None:
    """Write ``payload`` atomically (a reader sees the old file or the new one) and drop the kind's stale files."""
    import tempfile  # only when a cache file is (re)built

    body = payload.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".tmp", delete=False) as out:
        try:
            out.write(f"{MAGIC} {key} {zlib.crc32(body)} {len(body)}\n".encode() + body)
            out.flush()
            os.replace(out.name, path)
        except BaseException:
            os.unlink(out.name)
            raise
    kind = path.name.rsplit("-", 1)[0]  # kinds hold no "-": "vocabulary-<key>.cache"
    for old in path.parent.glob(f"{kind}-*.cache"):
        if old != path:
            old.unlink(missing_ok=True)


def through_cache(
    folder: Path,
    kind: str,
    files: Sequence[Traversable],
    build: Callable[[], T],
    codec: tuple[Callable[[T], str | None], Callable[[str], T | None]],
) -> T:
    """``build()``'s result, read from the cache when a current file is there, else built and written."""
    encode, decode = codec
    key = source_key(kind, files)
    if key is None:
        return build()
    path = cache_file(folder, kind, key)
    payload = read_payload(path, key)
    found = decode(payload) if payload is not None else None
    if found is not None:
        return found
    built = build()  # raises the loader's own error for broken sources: nothing is cached then
    text = encode(built)
    if text is not None:
        try:
            write_payload(path, key, text)
        except OSError as exc:  # a read-only or full disk: this process simply built it
            log.warning("cannot write the %s cache %s: %s", kind, path, exc.strerror or exc)
    return built


def cached_vocabulary(folder: Path, files: Sequence[Traversable], build: Callable[[], Vocabulary]) -> Vocabulary:
    return through_cache(folder, "vocabulary", files, build, (encode_vocabulary, decode_vocabulary))


def cached_lexicon(folder: Path, files: Sequence[Traversable], build: Callable[[], Lexicon]) -> Lexicon:
    return through_cache(folder, "lexicon", files, build, (encode_lexicon, decode_lexicon))


# -- vocabulary: one line per sense, then the index (normalised words, then their sense ids) ---------------
def encode_vocabulary(vocabulary: Vocabulary) -> str | None:
    """The cache text, or None when a separator occurs in the data (that vocabulary is then not cached)."""
    rows = [_sense_row(sense) for sense in vocabulary.senses]
    norms = list(vocabulary.by_norm)
    ids = [",".join(map(str, vocabulary.by_norm[norm])) for norm in norms]
    if None in rows or not all(map(_clean, norms)):
        return None
    return "\n".join([f"{len(rows)} {len(norms)}", *(row for row in rows if row is not None), *norms, *ids])


def _sense_row(sense: Sense) -> str | None:
    words = (part for w in sense.words for part in (w.text, w.norm, w.lang))
    texts = [sense.origin, sense.gloss or "", *sense.context, *words]
    if not all(map(_clean, texts)):
        return None
    parts = [sense.origin, sense.gloss or "", ALT.join(sense.context)]
    parts += [PART.join((w.text, w.norm, w.lang, "1" if w.weak else "")) for w in sense.words]
    return FIELD.join(parts)


def _clean(text: str) -> bool:
    return not any(mark in text for mark in (FIELD, PART, ALT, "\n", "\r"))


def decode_vocabulary(payload: str) -> Vocabulary | None:
    lines = payload.split("\n")
    try:
        senses, words = map(int, lines[0].split(" "))
    except ValueError:
        return None
    if senses < 0 or words < 0 or len(lines) != 1 + senses + 2 * words:
        return None
    index = dict(zip(lines[1 + senses : 1 + senses + words], lines[1 + senses + words :], strict=True))
    if "" in index:  # a norm is never empty: this is not what encode_vocabulary wrote
        return None
    return Vocabulary(SenseRows(lines[1 : 1 + senses]), SenseIndex(index))


class SenseRows(Sequence[Sense]):
    """A cached vocabulary's senses, each made from its row the first time it is asked for (a query looks up
    a handful of the 6,000)."""

    def __init__(self, rows: list[str]) -> None:
        self._rows = rows
        self._made: dict[int, Sense] = {}  # a race only makes a sense twice, both equal

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Sense: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Sense]: ...
    def __getitem__(self, index: int | slice) -> Sense | Sequence[Sense]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(len(self._rows))[index])
        position = range(len(self._rows))[index]  # negative indexes and IndexError as a tuple has them
        sense = self._made.get(position)
        if sense is None:
            sense = self._made[position] = _sense_from(position, self._rows[position])
        return sense


def _sense_from(sense_id: int, row: str) -> Sense:
    origin, gloss, context, *words = row.split(FIELD)
    made = []
    for word in words:
        text, norm, lang, weak = word.split(PART)
        made.append(Word(text, norm, lang, bool(weak)))
    return Sense(sense_id, tuple(made), gloss or None, tuple(context.split(ALT)) if context else (), origin)


class SenseIndex(Mapping[str, tuple[int, ...]]):
    """Normalised word → sense ids, kept as the file's text until a word is looked up."""

    def __init__(self, ids: dict[str, str]) -> None:
        self._ids = ids

    def __getitem__(self, norm: str) -> tuple[int, ...]:
        return tuple(map(int, self._ids[norm].split(",")))

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


# -- lexicon: JSON of the entries (forms as lists of their fields) and the indexes -------------------------
def encode_lexicon(lexicon: Lexicon) -> str:
    names = [f.name for f in fields(Form)]
    entries = [
        [e.id, e.kind, e.names, *([_form(f, names) for f in forms] for forms in _form_groups(e)), list(e.context)]
        for e in lexicon.entries.values()
    ]
    indexes = [lexicon.by_form, lexicon.by_token, lexicon.by_name_word]
    return json.dumps({"forms": names, "entries": entries, "indexes": indexes, "opaque": sorted(lexicon.opaque)})


def _form_groups(entry: Entry) -> tuple[tuple[Form, ...], ...]:
    return entry.forms, entry.weak, entry.context_forms, entry.negative


def _form(form: Form, names: list[str]) -> list[Any]:
    return [sorted(v) if isinstance(v, frozenset) else v for v in (getattr(form, n) for n in names)]


def decode_lexicon(payload: str) -> Lexicon | None:
    try:
        data = json.loads(payload)
        if data["forms"] != [f.name for f in fields(Form)]:
            return None
        entries = {raw[0]: _entry(raw) for raw in data["entries"]}
        by_form, by_token, by_name_word = ({k: tuple(v) for k, v in index.items()} for index in data["indexes"])
        return Lexicon(entries, by_form, by_token, by_name_word, frozenset(data["opaque"]))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):  # not what encode_lexicon wrote
        return None


def _entry(raw: list[Any]) -> Entry:
    entry_id, kind, names, forms, weak, context_forms, negative, context = raw
    made = [tuple(Form(*_form_values(f)) for f in group) for group in (forms, weak, context_forms, negative)]
    return Entry(entry_id, kind, dict(names), made[0], made[1], tuple(context), made[2], made[3])


def _form_values(values: list[Any]) -> list[Any]:
    return [frozenset(v) if isinstance(v, list) else v for v in values]
