"""The contract's dependency direction, checked on the source: transports → handlers → core ← storage."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import REPO

PLATFORM_LIBRARIES = {"telegram", "nio"}
DATABASE_LIBRARIES = {"aiosqlite", "sqlite3"}
SQL = re.compile(r"\b(SELECT\s+[\w*(]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE)\b")


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (REPO / folder).rglob("*.py"))


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module)
    return roots


def top(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("path", python_files("bot/core"), ids=lambda p: str(p.relative_to(REPO)))
def test_core_imports_no_platform_database_or_outer_layer(path: Path) -> None:
    names = imported_roots(path)
    assert not top(names) & (PLATFORM_LIBRARIES | DATABASE_LIBRARIES | {"handlers", "aiohttp"})
    outer = {n for n in names if n.startswith(("bot.storage", "bot.services", "bot.transports", "bot.app"))}
    assert not outer


@pytest.mark.parametrize("path", python_files("handlers"), ids=lambda p: str(p.relative_to(REPO)))
def test_handlers_import_no_platform_or_database(path: Path) -> None:
    names = imported_roots(path)
    assert not top(names) & (PLATFORM_LIBRARIES | DATABASE_LIBRARIES)
    assert not {n for n in names if n.startswith(("bot.transports", "bot.storage"))}


def test_only_the_transport_modules_import_their_platform() -> None:
    owners = {"telegram": ("bot/transports/telegram",), "nio": ("bot/transports/matrix",)}
    for path in python_files("bot", "handlers", "config"):
        rel = str(path.relative_to(REPO))
        for library in top(imported_roots(path)) & PLATFORM_LIBRARIES:
            assert rel.startswith(owners[library]), f"{rel} imports {library}"


def test_sql_lives_only_in_storage() -> None:
    for path in python_files("bot", "handlers", "config"):
        rel = str(path.relative_to(REPO))
        if rel.startswith("bot/storage/"):
            continue
        assert not SQL.search(path.read_text(encoding="utf-8")), f"SQL in {rel}"


def test_nothing_heavy_happens_at_import() -> None:
    """Settings are built once at start, never at import: no module-level Settings() calls."""
    for path in python_files("bot", "handlers", "config"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)] if isinstance(node, ast.Assign) else []
            for call in calls:
                name = getattr(call.func, "id", getattr(call.func, "attr", ""))
                assert name not in {"Settings", "load_settings"}, f"settings built at import in {path}"
