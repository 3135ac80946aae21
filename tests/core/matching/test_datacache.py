"""The derived cache of the lexicon and vocabulary: the same data as the sources give, rebuilt whenever the
file is not exactly what the current sources and code produce, and never required."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import config
from bot.core.matching import LexiconError, MatchEngine, Vocabulary
from bot.core.matching.datacache import MAGIC, cached_lexicon, cached_vocabulary
from bot.core.matching.lexicon import Lexicon

SHIPPED = Path(config.__file__).parent


@pytest.fixture(scope="module")
def sources() -> tuple[Lexicon, Vocabulary]:
    """The shipped data built from its sources, as without a cache."""
    return Lexicon.load(), Vocabulary.load()


def same_vocabulary(a: Vocabulary, b: Vocabulary) -> bool:
    return list(a.senses) == list(b.senses) and dict(a.by_norm) == dict(b.by_norm)


def shipped(kind: str, suffix: str) -> list[Path]:
    return sorted(path for path in (SHIPPED / kind).iterdir() if path.name.endswith(suffix))


def cache_files(folder: Path, kind: str) -> list[Path]:
    return sorted(folder.glob(f"{kind}-*.cache"))


def test_the_cache_gives_what_the_sources_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sources: tuple[Lexicon, Vocabulary]
) -> None:
    lexicon, vocabulary = sources
    assert Lexicon.load(cache_dir=tmp_path) == lexicon  # built and written
    assert same_vocabulary(Vocabulary.load(cache_dir=tmp_path), vocabulary)
    assert len(cache_files(tmp_path, "lexicon")) == len(cache_files(tmp_path, "vocabulary")) == 1

    def no_sources(*args: object) -> None:
        raise AssertionError("read from the sources although the cache is current")

    monkeypatch.setattr(Lexicon, "from_files", no_sources)
    monkeypatch.setattr(Vocabulary, "from_files", no_sources)
    assert Lexicon.load(cache_dir=tmp_path) == lexicon
    cached = Vocabulary.load(cache_dir=tmp_path)
    assert same_vocabulary(cached, vocabulary) and len(cached) == len(vocabulary)
    some = next(iter(vocabulary.by_norm))
    assert cached.lookup(some) == vocabulary.lookup(some) and cached.lookup("no such word") == ()
    assert cached.senses[-1] == vocabulary.senses[-1] and tuple(cached.senses[:3]) == vocabulary.senses[:3]


def test_an_engine_on_the_cache_decides_as_one_on_the_sources(
    tmp_path: Path, sources: tuple[Lexicon, Vocabulary]
) -> None:
    Lexicon.load(cache_dir=tmp_path), Vocabulary.load(cache_dir=tmp_path)  # builds the files
    cached = MatchEngine(Lexicon.load(cache_dir=tmp_path), Vocabulary.load(cache_dir=tmp_path))
    plain = MatchEngine(*sources)
    text = "Die Munitionsfabrik bei Moskau explodierte; Kremlchef Putin sprach von Sabotage."
    for query in ("Putin", "Munition", "ammunition", "Russland", '"arms deal" -Ukraine'):
        assert cached.match(query, text, "de") == plain.match(query, text, "de"), query


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],  # cut short by a crash or a full disk
        lambda raw: raw[:-40] + b"x" * 40,  # damaged body: the checksum differs
        lambda raw: b"NOTOURS" + raw[len(MAGIC) :],  # another program's file
        lambda raw: raw.replace(b" ", b"-", 1),  # a foreign header
        lambda raw: b"",
    ],
)
def test_a_damaged_file_is_rebuilt(tmp_path: Path, damage: object, sources: tuple[Lexicon, Vocabulary]) -> None:
    lexicon, vocabulary = sources
    lexicon_files, vocabulary_files = shipped("lexicon", ".toml"), shipped("vocabulary", ".tsv")
    cached_lexicon(tmp_path, lexicon_files, lambda: lexicon)  # writes the files without building again
    cached_vocabulary(tmp_path, vocabulary_files, lambda: vocabulary)
    for path in (*cache_files(tmp_path, "lexicon"), *cache_files(tmp_path, "vocabulary")):
        path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert Lexicon.load(cache_dir=tmp_path) == lexicon
    assert same_vocabulary(Vocabulary.load(cache_dir=tmp_path), vocabulary)

    def no_sources() -> Lexicon:
        raise AssertionError("the rebuilt file was not used")

    assert cached_lexicon(tmp_path, lexicon_files, no_sources) == lexicon


def test_a_changed_source_is_never_answered_from_the_old_file(tmp_path: Path) -> None:
    folder = tmp_path / "vocabulary"
    shutil.copytree(SHIPPED / "vocabulary", folder)
    cache = tmp_path / "cache"
    before = Vocabulary.load(folder, cache_dir=cache)
    assert not before.lookup("quasselstrippe")
    with (folder / "society.tsv").open("a", encoding="utf-8") as out:
        out.write("Quasselstrippe\tchatterbox\tsomeone who talks a lot\t-\n")
    after = Vocabulary.load(folder, cache_dir=cache)
    assert [w.text for w in after.lookup("quasselstrippe")[0].words] == ["Quasselstrippe", "chatterbox"]
    assert len(cache_files(cache, "vocabulary")) == 1  # the stale file is gone


def test_an_unwritable_cache_folder_only_costs_the_build(tmp_path: Path, sources: tuple[Lexicon, Vocabulary]) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert Lexicon.load(cache_dir=blocked / "cache") == sources[0]
    assert same_vocabulary(Vocabulary.load(cache_dir=blocked / "cache"), sources[1])


def test_data_holding_a_separator_is_used_uncached(tmp_path: Path) -> None:
    folder = tmp_path / "vocabulary"
    folder.mkdir()
    (folder / "odd.tsv").write_text("de\ten\tsense\tcontext\nWort\x1fmit\tword\t-\t-\n", encoding="utf-8")
    vocabulary = Vocabulary.load(folder, cache_dir=tmp_path / "cache")
    assert len(vocabulary) == 1 and not cache_files(tmp_path / "cache", "vocabulary")


def test_broken_sources_are_reported_and_not_cached(tmp_path: Path) -> None:
    folder = tmp_path / "lexicon"
    folder.mkdir()
    (folder / "a.toml").write_text("[[entity]\n")
    with pytest.raises(LexiconError, match=r"a\.toml"):
        Lexicon.load(folder, cache_dir=tmp_path / "cache")
    assert not cache_files(tmp_path / "cache", "lexicon")
