"""Start-up: the light commands import none of the heavy libraries. Checked by the interpreter's own import
log (``python -X importtime``), never by the clock: ``newsalert bench --only startup`` times them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.i18n import _PLAIN_DIGITS, translator
from config.locations import default_cache_dir
from config.settings import Settings
from tests.conftest import REPO, SEEDS

# The transports, the feed client, article extraction, charts, the scheduler: what `run` needs, not these.
HEAVY = ("telegram", "aiohttp", "trafilatura", "matplotlib", "nio", "apscheduler", "asyncpg", "feedparser")
MATCH_TEXT = "Kremlchef Wladimir Putin ist zu einem Staatsbesuch in Nordkorea eingetroffen."


def imported_by(*args: str, tmp: Path, stdin: str = "") -> set[str]:
    """Every module ``python -X importtime -m bot ARGS`` imported (top-level and dotted names); ``stdin`` is
    what the command reads (the console chat's lines for ``run``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSALERT_")}
    env |= {
        "NEWSALERT_DB_PATH": str(tmp / "db" / "news.db"),
        "NEWSALERT_SEEDS_DIR": str(SEEDS),
        "XDG_CACHE_HOME": str(tmp / "cache"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
    }
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=tmp, timeout=120,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert lines, "no import log: was -X importtime honoured?"
    return {line.rsplit("|", 1)[1].strip() for line in lines}


def heavy_in(modules: set[str], *extra: str) -> set[str]:
    banned = (*HEAVY, *extra)
    return {m for m in modules if m.split(".")[0] in banned or m in banned}


def test_help_imports_argparse_and_the_command_modules_only(tmp_path: Path) -> None:
    loaded = imported_by("--help", tmp=tmp_path)
    # the log is live: the commands' shared helpers are in it (modules loaded by importlib.import_module, as
    # the command registry does, are not logged themselves; what they import is)
    assert "bot.cli.common" in loaded
    assert not heavy_in(loaded, "pydantic", "pydantic_settings", "simplemma", "babel", "asyncio", "bench", "aiosqlite")
    assert not {m for m in loaded if m.startswith(("bot.core.", "bot.storage", "bot.services", "bot.transports"))}


def test_match_loads_the_engine_but_no_transport_or_settings(tmp_path: Path) -> None:
    # A quoted name is a lexicon entry as typed: no lemma is needed, so this run builds no cache either.
    loaded = imported_by("match", "--query", '"Wladimir Putin"', "--text", MATCH_TEXT, tmp=tmp_path)
    assert "bot.core.matching.engine" in loaded
    assert not heavy_in(loaded, "pydantic_settings", "aiosqlite", "simplemma", "bench")


def test_a_second_match_reads_the_lexicon_and_vocabulary_from_the_cache(tmp_path: Path) -> None:
    first = imported_by("match", "--query", '"Wladimir Putin"', "--text", MATCH_TEXT, tmp=tmp_path)
    assert "tomllib" in first  # the first run builds the lexicon from its TOML sources and caches it
    again = imported_by("match", "--query", '"Wladimir Putin"', "--text", MATCH_TEXT, tmp=tmp_path)
    assert "bot.core.matching.datacache" in again and "tomllib" not in again


def test_search_opens_the_archive_without_the_application(tmp_path: Path) -> None:
    loaded = imported_by("search", "Putin", tmp=tmp_path)
    assert "aiosqlite" in loaded and "pydantic_settings" in loaded and "bot.storage.articles" in loaded
    assert not heavy_in(loaded, "simplemma", "bench")
    assert not {m for m in loaded if m.startswith(("bot.core.matching", "bot.services", "bot.app"))}
    # the archive's repository only: the other tables' modules are not loaded for a search
    assert not {"bot.storage.store", "bot.storage.subscriptions", "bot.storage.outbox"} & loaded


def test_a_console_run_on_sqlite_loads_no_http_client_feed_parser_or_postgres_driver(tmp_path: Path) -> None:
    # What the console bot on the seeds needs: the application, the scheduler, the engine; aiohttp waits for
    # the first feed request, feedparser for the first XML feed, asyncpg for a PostgreSQL URL.
    loaded = imported_by("run", tmp=tmp_path, stdin="/stats\n")
    assert {"bot.app", "bot.services.feeds", "apscheduler"} <= loaded
    banned = ("aiohttp", "yarl", "feedparser", "asyncpg", "telegram", "nio", "trafilatura", "bench")
    assert not {m for m in loaded if m.split(".")[0] in banned}


def test_the_cache_folder_follows_xdg_and_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "newsalert"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")  # the XDG rule: only absolute paths count
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "newsalert"
    assert Settings().cache_dir == default_cache_dir()
    monkeypatch.setenv("NEWSALERT_CACHE_DIR", str(tmp_path / "mine"))
    assert Settings().cache_dir == tmp_path / "mine"


@pytest.mark.parametrize("lang", sorted(_PLAIN_DIGITS))
def test_small_numbers_skip_babel_but_read_as_babel_writes_them(lang: str) -> None:
    from babel.numbers import format_decimal

    t = translator(lang)
    for value in (*range(0, 1001), 1234, 1_000_000, -1, 2.5, 0.0):
        assert t.number(value) == format_decimal(value, locale=lang)
