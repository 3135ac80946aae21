"""The ``newsalert`` command as a user runs it: exit codes, one-line errors, the console chat."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SEEDS

NEW_ARTICLE = (
    "date 2024-06-19\nPutin landet in Pjöngjang\n\nKremlchef Wladimir Putin ist zu einem Staatsbesuch in Nordkorea "
    "eingetroffen. Machthaber Kim Jong-un empfing ihn am Flughafen. Beide Seiten wollen einen Vertrag über eine "
    "strategische Partnerschaft unterzeichnen, berichtete die staatliche Nachrichtenagentur KCNA am Mittwoch.\n"
)


def newsalert(
    *args: str, tmp: Path, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSALERT_")}
    clean.update({"NEWSALERT_DB_PATH": str(tmp / "db" / "news.db"), "NEWSALERT_SEEDS_DIR": str(SEEDS)})
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean,
        cwd=cwd or tmp,
        timeout=120,
    )


def test_bad_setting_exits_2_with_one_line(tmp_path: Path) -> None:
    result = newsalert("search", "x", tmp=tmp_path, env={"NEWSALERT_TELEGRAM__ADMIN_IDS": "abc"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "NEWSALERT_TELEGRAM__ADMIN_IDS" in result.stderr and "Traceback" not in result.stderr


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    result = newsalert("no-such-command", tmp=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_unusable_database_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    result = newsalert("search", "x", tmp=tmp_path, env={"NEWSALERT_DB_PATH": str(tmp_path / "file" / "x.db")})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "newsalert:" in result.stderr


def test_console_session_from_the_issue(tmp_path: Path) -> None:
    """`printf '/subscribe Putin\\n/list\\n/latest\\n' | newsalert run`, from another working directory."""
    result = newsalert("run", tmp=tmp_path, stdin="/subscribe Putin\n/list\n/latest\n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Subscribed: Putin" in result.stdout
    assert "1. Putin" in result.stdout
    assert result.stdout.count("Kim Jong-Un") >= 2  # /subscribe shows it, /latest shows it
    assert "Traceback" not in result.stderr
    # A restart adds nothing twice.
    again = newsalert("run", tmp=tmp_path, stdin="/stats\n")
    assert "1 articles" in again.stdout


def test_console_addseed_prints_the_alert(tmp_path: Path) -> None:
    article = tmp_path / "putin.txt"
    article.write_text(NEW_ARTICLE, encoding="utf-8")
    result = newsalert("run", tmp=tmp_path, stdin=f"/subscribe Putin\n/addseed {article}\n")
    assert result.returncode == 0, result.stderr[-2000:]
    after = result.stdout.split("Stored 1 new article", 1)[1]
    assert "Putin landet in Pjöngjang" in after
    assert "\n• " in after


def test_ingest_reports_new_duplicate_and_rejected(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    (folder / "b.txt").write_text(NEW_ARTICLE, encoding="utf-8")
    (folder / "empty.txt").write_text("")
    (folder / "blob.txt").write_bytes(bytes(range(256)) * 4)
    result = newsalert("ingest", str(folder), tmp=tmp_path)
    assert "new=1 duplicate=1 rejected=2" in result.stdout, result.stdout + result.stderr
    assert "empty.txt" in result.stderr and "blob.txt" in result.stderr
    assert "Traceback" not in result.stderr
    found = newsalert("search", "Pjöngjang", tmp=tmp_path)
    assert found.returncode == 0 and "Putin landet" in found.stdout
    missing = newsalert("search", "Merkel", tmp=tmp_path)
    assert missing.returncode == 1


@pytest.mark.parametrize("hostile", ['"', "NEAR(a b)", "title:x", "*", "a OR"])
def test_search_with_fts_syntax_never_fails(tmp_path: Path, hostile: str) -> None:
    result = newsalert("search", hostile, tmp=tmp_path)
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr


def test_python_dash_m_bot_and_console_script_agree(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "newsalert"
    assert script.exists()
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert "ingest" in out.stdout and "run" in out.stdout
    assert REPO.is_dir()


def test_console_accepts_tabs_and_undecodable_bytes(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSALERT_")}
    clean.update({"NEWSALERT_DB_PATH": str(tmp_path / "db.sqlite"), "NEWSALERT_SEEDS_DIR": str(SEEDS)})
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        input=b"/subscribe\tPutin\n/subscribe \xff\xfeKim Jong-un\n/list\n",
        capture_output=True,
        env=clean,
        cwd=tmp_path,
        timeout=120,
    )
    out = result.stdout.decode()
    assert result.returncode == 0 and "Traceback" not in result.stderr.decode()
    assert "1. Putin" in out and "2." in out


# Start-up cost: a command imports only what it uses. Checked by module, not by clock (the bench times it).
HEAVY_MODULES = ("aiohttp", "trafilatura", "telegram", "nio", "apscheduler", "bot.app", "bot.transports.console")
_IMPORTED_AFTER = (
    "import sys, runpy\n"
    "sys.argv = ['newsalert', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('bot', run_name='__main__')\n"
    "except SystemExit:\n"
    "    pass\n"
    "print('IMPORTED', ' '.join(sorted(sys.modules)), file=sys.stderr)\n"
)


def _modules_after(*args: str, tmp: Path) -> set[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSALERT_")}
    clean["NEWSALERT_DB_PATH"] = str(tmp / "db" / "news.db")
    result = subprocess.run(
        [sys.executable, "-c", _IMPORTED_AFTER, *args],
        capture_output=True, text=True, env=clean, cwd=tmp, timeout=120,
    )  # fmt: skip
    line = next(x for x in result.stderr.splitlines() if x.startswith("IMPORTED "))
    return set(line.split()[1:])


def test_help_imports_no_application_library(tmp_path: Path) -> None:
    loaded = _modules_after("--help", tmp=tmp_path)
    assert not {m for m in (*HEAVY_MODULES, "pydantic", "bot.core.matching", "aiosqlite") if m in loaded}


def test_match_loads_the_engine_but_no_settings_or_transports(tmp_path: Path) -> None:
    loaded = _modules_after("match", "--query", "Putin", "--text", "Wladimir Putin in Moskau", tmp=tmp_path)
    assert "bot.core.matching" in loaded
    assert not {m for m in (*HEAVY_MODULES, "pydantic_settings", "aiosqlite") if m in loaded}


def test_search_opens_the_archive_without_the_application(tmp_path: Path) -> None:
    loaded = _modules_after("search", "Putin", tmp=tmp_path)
    assert "aiosqlite" in loaded and "pydantic_settings" in loaded  # it reads the configuration and the database
    assert not {m for m in (*HEAVY_MODULES, "bot.core.matching") if m in loaded}


def test_a_command_loads_only_its_own_command_module(tmp_path: Path) -> None:
    loaded = _modules_after("match", "--query", "Putin", "--text", "Wladimir Putin in Moskau", tmp=tmp_path)
    assert "bot.cli.match" in loaded
    assert not {"bot.cli.run", "bot.cli.ingest", "bot.cli.trend", "bot.cli.db", "bot.cli.bench"} & loaded
    listed = _modules_after("--help", tmp=tmp_path)  # the command list needs every module
    assert {"bot.cli.run", "bot.cli.match", "bot.cli.db"} <= listed


def test_the_registry_names_every_command_its_modules_register() -> None:
    from bot.cli import COMMAND_MODULES, build_parser

    registered = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(registered) == {command for commands in COMMAND_MODULES.values() for command in commands}
    for commands in COMMAND_MODULES.values():
        for command in commands:  # a command's own parser holds it, whichever module is asked for
            assert command in build_parser(command)._subparsers._group_actions[0].choices  # type: ignore[union-attr]
