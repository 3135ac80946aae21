"""The derived lemma cache: same answers as simplemma, and any file that is not ours is rebuilt, never trusted."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest
import simplemma
from simplemma.strategies.dictionaries import DefaultDictionaryFactory

from bot.core import lemma_cache
from bot.core.lang import detect_language
from bot.core.lemma_cache import (
    CachedDictionaries,
    _Backend,
    cache_path,
    open_store,
    source_key,
    warm_lemma_cache,
    write_store,
)
from bot.core.lemma_memo import LemmaMemo


@pytest.fixture(scope="module")
def english() -> Mapping[str, str]:
    return DefaultDictionaryFactory(cache_max_size=0).get_dictionary("en")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding the English dictionary (building it is the slow part: done once here)."""
    folder = tmp_path_factory.mktemp("lemma-cache")
    CachedDictionaries(folder).get_dictionary("en")
    return folder


@pytest.fixture
def cache_dir(built: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(built, tmp_path / "cache"))


ENTRIES = {"Häuser": "Haus", "ging": "gehen", "prisoners": "prisoner", "a": "a", "zz": "Haus", "é": "e"}
RAW = {k.encode(): v.encode() for k, v in ENTRIES.items()}


def test_store_answers_like_the_mapping_it_was_made_from(tmp_path: Path) -> None:
    path = tmp_path / "store.bin"
    write_store(path, "k1", RAW)
    store = open_store(path, "k1")
    assert store is not None
    assert dict(store.items()) == ENTRIES and len(store) == len(ENTRIES)
    assert store.get("Häuser") == "Haus" and store["ging"] == "gehen" and "zz" in store
    for missing in ("", "Haus", "häuser", "gin", "gingg", "zzz", "\x00"):
        assert store.get(missing) is None and missing not in store
    with pytest.raises(KeyError):
        store["Haus"]


def test_empty_store(tmp_path: Path) -> None:
    write_store(tmp_path / "empty.bin", "k", {})
    store = open_store(tmp_path / "empty.bin", "k")
    assert store is not None and len(store) == 0 and store.get("a") is None


def test_a_file_from_other_sources_or_damaged_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.bin"
    write_store(path, "k1", RAW)
    whole = path.read_bytes()
    assert open_store(path, "k2") is None  # made from another simplemma / newsalert version
    assert open_store(tmp_path / "missing.bin", "k1") is None
    for damaged in (whole[:-1], whole + b"x", whole[:10], b"", os.urandom(4096), b"NALEMMA1" + b"\xff" * 64):
        path.write_bytes(damaged)
        assert open_store(path, "k1") is None
    path.write_bytes(whole.replace(b'"count": 6', b'"count": -6'))
    assert open_store(path, "k1") is None


def test_cached_dictionary_equals_simplemmas_and_is_built_once(cache_dir: Path, english: Mapping[str, str]) -> None:
    original = english
    built = cache_path(cache_dir, "en", source_key("en"), ".bin")
    stamp = built.stat().st_mtime_ns
    cached = CachedDictionaries(cache_dir).get_dictionary("en")  # a later process opens the file
    assert built.stat().st_mtime_ns == stamp and len(cached) == len(original)
    sample = [word for number, word in enumerate(original) if number % 997 == 0]
    assert all(cached.get(word) == original.get(word) for word in sample)
    assert all(cached.get(word + "qx") == original.get(word + "qx") for word in sample)


def test_a_corrupt_cache_file_is_rebuilt_and_stale_ones_removed(cache_dir: Path) -> None:
    built = cache_path(cache_dir, "en", source_key("en"), ".bin")
    built.write_bytes(b"not a cache")
    stale = cache_dir / "simplemma-en-0000000000000000.bin"  # made from an older simplemma
    stale.write_bytes(b"old")
    rebuilt = CachedDictionaries(cache_dir).get_dictionary("en")
    assert rebuilt.get("prisoners") == "prisoner" and open_store(built, source_key("en")) is not None
    assert not stale.exists()


def test_unknown_language_is_refused_as_simplemma_refuses_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        CachedDictionaries(tmp_path).get_dictionary("xx")
    with pytest.raises(ValueError):
        source_key("../en")


def test_lemmas_through_the_cache_are_simplemmas(cache_dir: Path) -> None:
    backend = _Backend()
    backend.use(cache_dir)
    words = ("prisoners", "went", "Putin", "strikes", "qqqx", "children's", "better")
    assert [backend.lemmatize(w, "en") for w in words] == [simplemma.lemmatize(w, lang="en") for w in words]


@pytest.fixture(scope="module")
def both_languages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lemma-cache-de-en")
    warm_lemma_cache(folder)
    return folder


# texts whose few function words leave the language open: the dictionaries decide (bot/core/lang.py)
OPEN_TEXTS = ("Kim trifft Putin", "Putin meets Kim", "Wladimir Putin ist da.", "Gipfel in Pjöngjang", "Summit talks",
              "12345 --- 678", "", "Kim Jong-Un, Putin, Wladiwostok", "Munitionsfabrik Rheinmetall")  # fmt: skip


def test_language_shares_through_the_cache_are_simplemmas_without_its_dictionaries(
    both_languages: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = [simplemma.langdetect(text, lang=("de", "en")) for text in OPEN_TEXTS]

    monkeypatch.setattr(DefaultDictionaryFactory, "get_dictionary", _decoded)
    backend = _Backend()
    backend.use(both_languages)
    assert [backend.language_shares(text, ("de", "en")) for text in OPEN_TEXTS] == expected
    with pytest.raises(AssertionError):  # the spy works: without a cache, simplemma decodes its own
        _Backend().language_shares("Kim trifft Putin", ("de", "en"))


def test_the_language_detector_asks_the_cache_in_use(both_languages: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = _Backend()
    backend.use(both_languages)
    monkeypatch.setattr(lemma_cache, "_BACKEND", backend)  # the process's backend, restored afterwards
    monkeypatch.setattr(DefaultDictionaryFactory, "get_dictionary", _decoded)
    assert detect_language("Kim trifft Putin") == "de" and detect_language("Putin meets Kim") == "en"


def _decoded(*_: object) -> None:
    raise AssertionError("simplemma's own dictionary was decoded")


def test_a_later_process_answers_from_the_memo_without_simplemma(cache_dir: Path) -> None:
    first = _Backend()
    first.use(cache_dir)
    assert first.lemmatize("prisoners", "en") == "prisoner"
    later = _Backend()
    later.use(cache_dir)
    assert later.lemmatize("prisoners", "en") == "prisoner"
    assert later._lemmatizer is None  # answered from the memo: no lemmatizer (nor dictionary) was needed


def test_memo_ignores_foreign_files_and_cut_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.memo"
    path.write_text("someone else's file\nprisoners\twrong\n", encoding="utf-8")
    memo = LemmaMemo(path, "k")
    assert memo.get("prisoners") is None
    memo.add("prisoners", "prisoner")
    with path.open("a", encoding="utf-8") as out:
        out.write("half-written")  # a crash in the middle of a line
    again = LemmaMemo(path, "k")
    assert again.get("prisoners") == "prisoner" and again.get("half-written") is None
    assert LemmaMemo(path, "other key").get("prisoners") is None
