"""Run the services and handler tests on both storage backends: SQLite and the session's PostgreSQL.

``pytest_generate_tests`` (imported by ``tests/conftest.py``) parametrises every test under the folders in
``BOTH_BACKENDS`` that uses the ``settings`` fixture with ``db_backend`` = ``sqlite`` / ``postgres``; every
other test keeps one SQLite run. A PostgreSQL test gets a database of its own, cloned from a template that
was migrated once per session (``CREATE DATABASE … TEMPLATE`` copies files: much cheaper than running the
migrations, with the text search configurations and ``unaccent``, for every test).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.storage.store import Storage
from config.settings import Settings
from tests.pg import PgServer

BACKENDS = ("sqlite", "postgres")
BOTH_BACKENDS = ("services", "handlers")  # folders under tests/
TESTS = Path(__file__).resolve().parent
_TEMPLATE = "newsalert_template"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "settings" not in metafunc.fixturenames:
        return
    try:
        folder = Path(str(metafunc.definition.path)).resolve().relative_to(TESTS).parts[0]
    except ValueError:
        return
    if folder in BOTH_BACKENDS:
        metafunc.parametrize("db_backend", BACKENDS, indirect=True)


class _Databases:
    """Fresh databases on the session's server, each a copy of one migrated template."""

    def __init__(self, server: PgServer) -> None:
        self._server = server
        self._numbers: Iterator[int] = itertools.count()
        self._template_ready = False

    def _psql(self, sql: str) -> None:
        server = self._server
        subprocess.run(
            [str(server.bin_dir / "psql"), "-q", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres",
             "-d", "postgres", "-c", sql],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def _make_template(self) -> None:
        self._psql(f'CREATE DATABASE "{_TEMPLATE}"')
        # Migrated in a loop of its own: the fixture asking for a database may run outside any loop.
        asyncio.run(_migrate(self._server.url(_TEMPLATE)))
        self._template_ready = True

    def new(self) -> str:
        if not self._template_ready:
            self._make_template()
        name = f"b{os.getpid()}_{next(self._numbers)}"
        self._psql(f'CREATE DATABASE "{name}" TEMPLATE "{_TEMPLATE}"')
        return self._server.url(name)


async def _migrate(url: str) -> None:
    storage = await Storage.open(Path("unused.db"), url=url)
    await storage.close()


@pytest.fixture(scope="session")
def pg_databases(pg_server: PgServer) -> _Databases:
    return _Databases(pg_server)


@pytest.fixture
def db_backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` unless the test was parametrised over both (see :func:`pytest_generate_tests`)."""
    return str(getattr(request, "param", "sqlite"))


def backend_settings(tmp_path: Path, db_backend: str, request: pytest.FixtureRequest, seeds: Path) -> Settings:
    """Settings on a fresh database of ``db_backend``: a SQLite file under ``tmp_path`` or a PostgreSQL copy."""
    url = request.getfixturevalue("pg_databases").new() if db_backend == "postgres" else None
    return Settings(db_path=tmp_path / "db" / "news.db", database_url=url, seeds_dir=seeds, _env_file=None)  # type: ignore[call-arg]
