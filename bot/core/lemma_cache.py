"""simplemma's lemma dictionaries kept in a derived on-disk cache that is looked up without being loaded.

simplemma ships each language's dictionary front-coded and lzma-compressed: the first lemma of a process decodes
the whole German one (1.1 million forms) into a dict, about 2 s of CPU and 150 MB, for the few words a query
has. The cache holds the same entries sorted, as offset arrays and UTF-8 bytes in one file per language;
lookups bisect through a read-only memory map, so a process reads only the pages its words touch.

The cache is never required: a missing, stale, foreign or corrupt file is rebuilt, and where it cannot be
written the dictionary is used as simplemma loads it. A file is ours only with our magic, our format version
and the key of its source (a hash of simplemma's data file, simplemma's and newsalert's versions, the byte
order); it holds offsets and text only, so even a tampered file can give wrong lemmas but never run code.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import struct
import sys
import threading
from array import array
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.lemma_memo import LemmaMemo

if TYPE_CHECKING:
    from simplemma import Lemmatizer
    from simplemma.strategies import LemmatizationStrategy

log = logging.getLogger(__name__)

MAGIC = b"NALEMMA1"
PREFIX = struct.Struct("<8sI")  # magic, length of the JSON header that follows
MAX_HEADER = 4096
ITEM = 4  # bytes per offset ("I" arrays; checked at start, see _usable)
CACHE_PREFIX = "simplemma-"
FOUND_CACHE = 16_384  # recent lookups per language file kept in memory (≈ 3 MB when full)


class LemmaStore(Mapping[str, str]):
    """A read-only word → lemma mapping over one cache file (sorted UTF-8 keys, deduplicated values)."""

    def __init__(self, data: mmap.mmap, header: dict[str, int], start: int) -> None:
        count, values, key_bytes = header["count"], header["values"], header["keys_bytes"]
        view = memoryview(data)
        self._data = data
        self._count = count
        self._key_offsets = view[start : start + ITEM * (count + 1)].cast("I")
        start += ITEM * (count + 1)
        self._value_ids = view[start : start + ITEM * count].cast("I")
        start += ITEM * count
        self._value_offsets = view[start : start + ITEM * (values + 1)].cast("I")
        start += ITEM * (values + 1)
        self._keys_at = start
        self._values_at = start + key_bytes
        self._values = values
        # a bisect reads ≈ 20 keys in Python; language detection asks about the same common words text after text
        self._find = lru_cache(maxsize=FOUND_CACHE)(self._find)  # type: ignore[method-assign]

    def _key(self, index: int) -> bytes:
        at = self._keys_at
        return self._data[at + self._key_offsets[index] : at + self._key_offsets[index + 1]]

    def _find(self, key: str) -> str | None:
        target = key.encode("utf-8", "surrogatepass")
        low, high = 0, self._count
        while low < high:  # leftmost position whose key is >= target
            middle = (low + high) // 2
            if self._key(middle) < target:
                low = middle + 1
            else:
                high = middle
        if low == self._count or self._key(low) != target:
            return None
        value = self._value_ids[low]
        if value >= self._values:  # only a damaged file points past its values
            return None
        at = self._values_at
        raw = self._data[at + self._value_offsets[value] : at + self._value_offsets[value + 1]]
        return raw.decode("utf-8", "replace")

    def get(self, key: str, default: Any = None) -> Any:  # simplemma probes with get(); a miss is common
        found = self._find(key)
        return default if found is None else found

    def __getitem__(self, key: str) -> str:
        found = self._find(key)
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[str]:
        return (self._key(i).decode("utf-8", "replace") for i in range(self._count))

    def __len__(self) -> int:
        return self._count


def write_store(path: Path, key: str, entries: Mapping[bytes, bytes]) -> None:
    """Write ``entries`` (UTF-8 word → lemma) as a cache file at ``path``, atomically: a reader sees the old
    file or the new one. Sorted keys only, no copies of the pairs: the German source alone is 150 MB."""
    value_ids: dict[bytes, int] = {}
    key_offsets, ids, value_offsets = array("I", [0]), array("I"), array("I", [0])
    keys, values = bytearray(), bytearray()
    for word in sorted(entries):
        lemma = entries[word]
        keys += word
        key_offsets.append(len(keys))
        if lemma not in value_ids:
            value_ids[lemma] = len(value_ids)
            values += lemma
            value_offsets.append(len(values))
        ids.append(value_ids[lemma])
    header = {"key": key, "count": len(ids), "values": len(value_ids), "keys_bytes": len(keys),
              "values_bytes": len(values)}  # fmt: skip
    head = json.dumps(header).encode()
    head += b" " * (-(PREFIX.size + len(head)) % ITEM)  # the arrays start aligned
    import tempfile  # only when a cache file is built (once per simplemma version)

    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".tmp", delete=False) as out:
        try:
            out.write(PREFIX.pack(MAGIC, len(head)) + head)
            for part in (key_offsets, ids, value_offsets):
                part.tofile(out)
            out.write(keys)
            out.write(values)
            out.flush()
            os.replace(out.name, path)
        except BaseException:
            os.unlink(out.name)
            raise


def open_store(path: Path, key: str) -> LemmaStore | None:
    """The cache file at ``path`` if it is ours, complete and made from the source ``key``; else None."""
    try:
        with path.open("rb") as handle:
            prefix = handle.read(PREFIX.size)
            if len(prefix) != PREFIX.size:
                return None
            magic, length = PREFIX.unpack(prefix)
            if magic != MAGIC or length > MAX_HEADER:
                return None
            header = _header(handle.read(length), key)
            if header is None:
                return None
            start = PREFIX.size + length
            if os.fstat(handle.fileno()).st_size != start + _body_size(header):
                return None  # cut short (or grown): not the file that was written
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    return LemmaStore(data, header, start)


def _header(raw: bytes, key: str) -> dict[str, int] | None:
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    sizes = ("count", "values", "keys_bytes", "values_bytes")
    if not isinstance(header, dict) or header.get("key") != key:
        return None
    if not all(type(header.get(name)) is int and header[name] >= 0 for name in sizes):
        return None
    return {name: header[name] for name in sizes}


def _body_size(header: dict[str, int]) -> int:
    count, values = header["count"], header["values"]
    return ITEM * ((count + 1) + count + (values + 1)) + header["keys_bytes"] + header["values_bytes"]


def _usable() -> bool:
    """The format stores native 4-byte unsigned offsets."""
    return array("I").itemsize == ITEM


class CachedDictionaries:
    """A simplemma ``DictionaryFactory``: each language's dictionary from the cache, built on first need."""

    def __init__(self, cache_dir: Path) -> None:
        self._dir = cache_dir
        self._loaded: dict[str, Mapping[str, str]] = {}
        self._lock = threading.Lock()  # the engine resolves queries from worker threads too

    def get_dictionary(self, lang: str) -> Mapping[str, str]:
        found = self._loaded.get(lang)
        if found is None:
            with self._lock:
                found = self._loaded.get(lang) or self._load(lang)
                self._loaded[lang] = found
        return found

    def _load(self, lang: str) -> Mapping[str, str]:
        from simplemma.strategies.dictionaries.dictionary_factory import MappingStrToByteString

        key = source_key(lang)  # ValueError for a language simplemma does not have, as simplemma raises
        path = cache_path(self._dir, lang, key, ".bin")
        store = open_store(path, key) if _usable() else None
        if store is not None:
            return store
        log.info("building the %s lemma cache in %s (once per simplemma version)", lang, self._dir)
        raw = _raw_dictionary(lang)
        if not _usable():
            return MappingStrToByteString(raw)
        try:
            write_store(path, key, raw)
            _remove_stale(self._dir, lang, key)
        except OSError as exc:  # a read-only or full disk: this process uses the decoded dictionary
            log.warning("cannot write the lemma cache %s: %s", path, exc.strerror or exc)
            return MappingStrToByteString(raw)
        return open_store(path, key) or MappingStrToByteString(raw)


def _raw_dictionary(lang: str) -> Mapping[bytes, bytes]:
    """simplemma's dictionary as its own bytes → bytes dict (no text round trip of a million entries); through
    its public text mapping should that loader ever move."""
    try:
        from simplemma.strategies.dictionaries.dictionary_factory import _load_dictionary_from_disk
    except ImportError:
        from simplemma.strategies.dictionaries import DefaultDictionaryFactory

        text = DefaultDictionaryFactory(cache_max_size=0).get_dictionary(lang)
        return {k.encode(): v.encode() for k, v in text.items()}
    return _load_dictionary_from_disk(lang)


def source_key(lang: str) -> str:
    """What a cache file is derived from: simplemma's data file for ``lang``, its version, ours, the byte order.
    Found without importing simplemma (the import alone costs more than a whole cached lookup)."""
    import hashlib
    import importlib.util

    import bot

    spec = importlib.util.find_spec("simplemma")
    if spec is None or not spec.submodule_search_locations:
        raise LookupError("simplemma is not installed")
    package = Path(next(iter(spec.submodule_search_locations)))
    data = package / "strategies" / "dictionaries" / "data" / f"{lang}.plzma"
    if not lang.isalpha() or not data.is_file():
        raise ValueError(f"Unsupported language: {lang}")
    digest = hashlib.sha256(data.read_bytes())
    digest.update((package / "__metadata__.py").read_bytes())  # holds simplemma's version
    for part in (bot.__version__, sys.byteorder, MAGIC.decode()):
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()


def cache_path(folder: Path, lang: str, key: str, suffix: str) -> Path:
    return folder / f"{CACHE_PREFIX}{lang}-{key[:16]}{suffix}"


def _remove_stale(folder: Path, lang: str, key: str) -> None:
    """Files of ``lang`` made from other sources (an older simplemma or newsalert)."""
    for old in folder.glob(f"{CACHE_PREFIX}{lang}-*"):
        if not old.name.startswith(cache_path(folder, lang, key, "").name):
            old.unlink(missing_ok=True)


def _shares(text: str, langs: tuple[str, ...], strategy: LemmatizationStrategy) -> list[tuple[str, float]]:
    """``simplemma.langdetect(text, lang=langs)`` with ``strategy`` (langdetect always builds its own, which
    decodes the shipped dictionaries): its two samplers, the relaxed one only to break a tie, and its order."""
    from simplemma import LanguageDetector
    from simplemma.token_sampler import MostCommonTokenSampler, RelaxedMostCommonTokenSampler

    ranked: list[tuple[str, float]] = []
    for sampler in (MostCommonTokenSampler(), RelaxedMostCommonTokenSampler()):
        shares = LanguageDetector(langs, sampler, strategy).proportion_in_each_language(text)
        ranked = sorted(shares.items(), key=lambda item: (item[0] == "unk", -item[1]))  # "unk" last
        if len(ranked) == 1 or ranked[0][1] != ranked[1][1]:
            break
    return ranked


class _Backend:
    """Where this process's lemmas come from: simplemma's own dictionaries until ``use_lemma_cache``. One per
    process, like simplemma's own dictionaries: the answers are the same either way, only their cost differs."""

    def __init__(self) -> None:
        self.cache_dir: Path | None = None
        self._strategy: LemmatizationStrategy | None = None  # lemmas and language detection share its dictionaries
        self._lemmatizer: Lemmatizer | None = None
        self._memos: dict[str, LemmaMemo] = {}
        self._lock = threading.Lock()  # queries are resolved from worker threads too

    def use(self, cache_dir: Path) -> None:
        with self._lock:
            if cache_dir != self.cache_dir:
                self.cache_dir, self._strategy, self._lemmatizer, self._memos = cache_dir, None, None, {}

    def _cached_strategy(self, folder: Path) -> LemmatizationStrategy:
        """simplemma's default strategy (same steps, same answers) reading its dictionaries from the cache."""
        if self._strategy is None:
            from simplemma.strategies import DefaultStrategy

            self._strategy = DefaultStrategy(dictionary_factory=CachedDictionaries(folder))
        return self._strategy

    def lemmatize(self, word: str, lang: str) -> str:
        with self._lock:
            folder = self.cache_dir
            if folder is None:
                import simplemma  # only at the first lemma: its import compiles every language's rules

                return simplemma.lemmatize(word, lang=lang)
            memo = self._memos.get(lang)
            if memo is None:
                key = source_key(lang)
                memo = self._memos[lang] = LemmaMemo(cache_path(folder, lang, key, ".memo"), key)
            found = memo.get(word)
            if found is None:
                if self._lemmatizer is None:
                    from simplemma import Lemmatizer

                    self._lemmatizer = Lemmatizer(lemmatization_strategy=self._cached_strategy(folder))
                found = self._lemmatizer.lemmatize(word, lang)
                memo.add(word, found)
            return found

    def language_shares(self, text: str, langs: tuple[str, ...]) -> list[tuple[str, float]]:
        with self._lock:
            folder = self.cache_dir
            strategy = None if folder is None else self._cached_strategy(folder)
        if strategy is None:
            from simplemma import langdetect

            return langdetect(text, lang=langs)
        return _shares(text, langs, strategy)


_BACKEND = _Backend()


def use_lemma_cache(cache_dir: Path) -> None:
    """Read lemma dictionaries from (and build them into) ``cache_dir`` from now on in this process."""
    _BACKEND.use(cache_dir)


def lemmatize(word: str, lang: str) -> str:
    """``simplemma.lemmatize(word, lang=lang)``, through the cache once ``use_lemma_cache`` chose one."""
    return _BACKEND.lemmatize(word, lang)


def language_shares(text: str, langs: tuple[str, ...]) -> list[tuple[str, float]]:
    """``simplemma.langdetect(text, lang=langs)``, through the cache once ``use_lemma_cache`` chose one: a
    short text in a process that has the cache costs a fraction of a millisecond, not seconds and ≈ 125 MB."""
    return _BACKEND.language_shares(text, langs)


def warm_lemma_cache(cache_dir: Path, langs: tuple[str, ...] = ("de", "en")) -> None:
    """Build (or check) the cache files of ``langs`` now, e.g. in a child process before a measurement."""
    dictionaries = CachedDictionaries(cache_dir)
    for lang in langs:
        dictionaries.get_dictionary(lang)
