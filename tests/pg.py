"""A throw-away PostgreSQL for the test run, and fixtures that run a test against both storage backends.

One server per test session: ``initdb`` into a temporary folder and ``pg_ctl start`` on a free loopback
port, as the ``postgres`` user when the tests run as root (initdb refuses root); stopped by its pid at the
end. Each test gets a database of its own. Where no PostgreSQL is installed, the PostgreSQL half of the
tests is skipped with the reason; the SQLite half still runs.

Use in a test module or conftest::

    async def test_x(storage_backend: StorageBackend) -> None:   # runs twice: sqlite, postgres
        storage = await storage_backend.open()

or take ``backend_name`` / ``pg_database_url`` to build ``Settings(database_url=...)`` for a whole app.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.storage.store import Storage
from tests.reaper import Guard, guard, wait_gone

PG_BIN_DIRS = (
    Path(os.environ.get("NEWSALERT_PG_BIN", "/usr/lib/postgresql/15/bin")),
    Path("/usr/lib/postgresql/16/bin"),
)
BACKENDS = ("sqlite", "postgres")
_START_TIMEOUT = 60.0
_START_ATTEMPTS = 3


def find_pg_bin() -> Path | None:
    for folder in PG_BIN_DIRS:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    """A running server; :meth:`new_database` hands out empty databases on it."""

    bin_dir: Path
    root: Path
    port: int
    pid: int = 0
    watchdog: Guard | None = None  # stops the server should this test process die before :meth:`stop`
    _numbers: Iterator[int] = field(default_factory=itertools.count)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """An empty database (created with psql, so no event loop is needed); returns its URL."""
        name = f"t{os.getpid()}_{next(self._numbers)}"
        subprocess.run(
            [str(self.bin_dir / "psql"), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", "postgres", "-c", f'CREATE DATABASE "{name}"'],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        return self.url(name)

    def stop(self) -> None:
        if not self.pid:
            return
        try:
            # "Immediate" shutdown: no final checkpoint (seconds of writes after dozens of test databases);
            # the data folder is deleted next, so there is nothing to recover.
            os.kill(self.pid, signal.SIGQUIT)
        except ProcessLookupError:
            pass
        else:
            if not wait_gone(self.pid, 30):
                os.kill(self.pid, signal.SIGKILL)
                wait_gone(self.pid, 10)
        if self.watchdog is not None:
            self.watchdog.release()


def _as_server_user(argv: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


def _scratch_folder() -> str | None:
    """RAM-backed /dev/shm where there is one: hundreds of test databases and their WAL never touch the
    disk, and deleting the cluster at the end is instant (on a busy disk it took minutes)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def start_server(bin_dir: Path) -> PgServer:
    root = Path(tempfile.mkdtemp(prefix="newsalert-pg-", dir=_scratch_folder()))
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres", group="postgres")
    data = root / "data"
    subprocess.run(
        _as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                         "-E", "UTF8", "--locale=C.UTF-8"]),
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    # A free port is only free until someone binds it: parallel test workers may race for one, so retry.
    attempts_left = _START_ATTEMPTS
    while True:
        server = PgServer(bin_dir, root, _free_port())
        try:
            _start(server, data)
            break
        except subprocess.CalledProcessError:
            attempts_left -= 1
            if not attempts_left:
                raise
    server.pid = int((data / "postmaster.pid").read_text().split()[0])
    server.watchdog = guard(server.pid, signal.SIGQUIT)
    return server


def _start(server: PgServer, data: Path) -> None:
    root = server.root
    # Loopback only, socket in the temp folder, durability off: a test server, thrown away at the end.
    options = (
        f"-p {server.port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off"
        " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        " -c max_wal_size=128MB -c min_wal_size=32MB"  # bounded WAL: the folder may be in RAM
    )
    subprocess.run(
        _as_server_user([str(server.bin_dir / "pg_ctl"), "start", "-D", str(data), "-l", str(root / "server.log"),
                         "-w", "-t", str(int(_START_TIMEOUT)), "-o", options]),
        check=True, capture_output=True, timeout=_START_TIMEOUT + 10,
    )  # fmt: skip


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (no initdb/pg_ctl in /usr/lib/postgresql/*/bin or on PATH)")
    try:
        server = start_server(bin_dir)
    except (subprocess.CalledProcessError, OSError) as exc:
        stderr = getattr(exc, "stderr", b"") or b""
        pytest.fail(f"could not start the test PostgreSQL: {exc} {stderr.decode(errors='replace')[-500:]}")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture
def pg_database_url(pg_server: PgServer) -> str:
    """A fresh, empty database on the session's server."""
    return pg_server.new_database()


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgres``: parametrise any fixture or test over both storage backends."""
    return str(request.param)


@dataclass
class StorageBackend:
    """Opens storage on one backend: the SQLite file ``path``, or PostgreSQL at ``url``."""

    name: str
    path: Path
    url: str | None
    opened: list[Storage] = field(default_factory=list)

    async def open(self) -> Storage:
        storage = await Storage.open(self.path, url=self.url)
        self.opened.append(storage)
        return storage


@pytest.fixture
async def storage_backend(
    backend_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[StorageBackend]:
    url = request.getfixturevalue("pg_database_url") if backend_name == "postgres" else None
    backend = StorageBackend(backend_name, tmp_path / "sub" / "news.db", url)
    yield backend
    for storage in backend.opened:
        await storage.close()
