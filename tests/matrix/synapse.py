"""A throw-away Synapse homeserver for the Matrix end-to-end tests.

Synapse lives in its own virtualenv (``.venv-synapse/`` in the repository root) so its many pinned
dependencies never touch the project's environment. The server gets a fresh config and SQLite database in a
temporary directory, listens on 127.0.0.1 only, and is stopped by its process id.

Everything here is synchronous on purpose: it runs in session-scoped fixtures, outside any event loop.
Async tests use the ``*_async`` wrappers, which move the blocking work to a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.reaper import Guard, guard

SYNAPSE_REQUIREMENT = "matrix-synapse>=1.100"
INSTALL_TIMEOUT_S = 900.0
READY_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 15.0
_GENEROUS = {"per_second": 1000, "burst_count": 1000}


class SynapseError(RuntimeError):
    """The homeserver could not be installed, started or used; the message says why."""


def _stamp(venv: Path) -> Path:
    return venv / ".newsalert-installed"


def ensure_synapse(venv: Path) -> Path:
    """Install ``matrix-synapse`` into ``venv`` unless a stamp says it is there; return its python.

    A file lock keeps two test runs (or two engineers) from installing into the same folder at once.
    """
    python = venv / "bin" / "python"
    venv.mkdir(parents=True, exist_ok=True)
    with (venv / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = _stamp(venv)
        if python.exists() and stamp.exists() and stamp.read_text().strip() == SYNAPSE_REQUIREMENT:
            return python
        _run_install([sys.executable, "-m", "venv", str(venv)], "creating the Synapse virtualenv")
        _run_install(
            [str(python), "-m", "pip", "install", "--quiet", SYNAPSE_REQUIREMENT],
            f"installing {SYNAPSE_REQUIREMENT} from PyPI",
        )
        stamp.write_text(SYNAPSE_REQUIREMENT + "\n")
    return python


def _run_install(argv: list[str], what: str) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SynapseError(f"{what} failed: {exc}") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise SynapseError(f"{what} failed (exit {done.returncode}); is PyPI reachable?\n{tail}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rate_limits() -> dict[str, object]:
    """Every ``rc_*`` limit raised far above what the tests do, so no test waits on a limiter."""
    return {
        "rc_message": _GENEROUS,
        "rc_registration": _GENEROUS,
        "rc_registration_token_validity": _GENEROUS,
        "rc_login": {"address": _GENEROUS, "account": _GENEROUS, "failed_attempts": _GENEROUS},
        "rc_admin_redaction": _GENEROUS,
        "rc_joins": {"local": _GENEROUS, "remote": _GENEROUS},
        "rc_joins_per_room": _GENEROUS,
        "rc_3pid_validation": _GENEROUS,
        "rc_invites": {"per_room": _GENEROUS, "per_user": _GENEROUS, "per_issuer": _GENEROUS},
        "rc_third_party_invite": _GENEROUS,
        "rc_media_create": _GENEROUS,
        "rc_federation": {"window_size": 1000, "sleep_limit": 1000, "sleep_delay": 0, "reject_limit": 1000},
        # Room creation allows a burst of 10, then one per minute: alice creates far more rooms than that, and
        # each further room made a test wait up to 60 s (nio sleeps out the 429 in silence).
        "rc_room_creation": _GENEROUS,
        "rc_key_requests": _GENEROUS,
        "rc_presence": {"per_user": _GENEROUS},
        "rc_delayed_event_mgmt": _GENEROUS,
        "rc_reports": _GENEROUS,
        "rc_user_directory": _GENEROUS,
        "rc_profile": _GENEROUS,
    }


def write_config(workdir: Path, port: int) -> tuple[Path, str]:
    """Write a minimal homeserver config (JSON is valid YAML); return its path and the shared secret."""
    shared_secret = secrets.token_hex(16)
    log_config = workdir / "log.config"
    log_config.write_text(
        json.dumps(
            {
                "version": 1,
                "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
                "handlers": {
                    "file": {
                        "class": "logging.FileHandler",
                        "formatter": "plain",
                        "filename": str(workdir / "homeserver.log"),
                    }
                },
                "root": {"level": "WARNING", "handlers": ["file"]},
                "disable_existing_loggers": False,
            }
        )
    )
    config = {
        "server_name": "localhost",
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(workdir / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(workdir / "homeserver.db")}},
        "log_config": str(log_config),
        "media_store_path": str(workdir / "media_store"),
        "signing_key_path": str(workdir / "localhost.signing.key"),
        "registration_shared_secret": shared_secret,
        "macaroon_secret_key": secrets.token_hex(16),
        "form_secret": secrets.token_hex(16),
        "report_stats": False,
        "enable_metrics": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "presence": {"enabled": False},
        "url_preview_enabled": False,
        "enable_registration": False,
        "max_upload_size": "10M",
        "bcrypt_rounds": 4,  # throw-away passwords: fast registration and login
        **_rate_limits(),
    }
    path = workdir / "homeserver.yaml"
    path.write_text(json.dumps(config, indent=2))
    return path, shared_secret


@dataclass(frozen=True, slots=True)
class MatrixUser:
    user_id: str
    password: str
    access_token: str
    device_id: str


class SynapseServer:
    """One Synapse process; :meth:`restart` keeps its config and database."""

    def __init__(self, python: Path, workdir: Path) -> None:
        self._python = python
        self._workdir = workdir
        self.port = free_port()
        self._config, self._shared_secret = write_config(workdir, self.port)
        self._process: subprocess.Popen[bytes] | None = None
        self._watchdog: Guard | None = None  # stops Synapse should this test process die before :meth:`stop`
        self._output = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def generate_keys(self) -> None:
        _run_install(
            [str(self._python), "-m", "synapse.app.homeserver", "-c", str(self._config), "--generate-keys"],
            "generating the Synapse signing key",
        )

    def start(self) -> None:
        if self._process is not None:
            raise SynapseError("Synapse is already running")
        self._output = (self._workdir / "stdout.log").open("ab")
        self._process = subprocess.Popen(
            [str(self._python), "-m", "synapse.app.homeserver", "-c", str(self._config)],
            cwd=self._workdir,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "SYNAPSE_CACHE_FACTOR": "0.5"},
        )
        self._watchdog = guard(self._process.pid, signal.SIGTERM, grace=STOP_TIMEOUT_S)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise SynapseError(f"Synapse exited with {self._process.returncode}:\n{self.log_tail()}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2) as resp,
            ):
                if resp.status == 200:
                    return
            time.sleep(0.1)
        raise SynapseError(f"Synapse not ready after {READY_TIMEOUT_S:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM the process we started, SIGKILL it if it does not exit in time."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.release()
        if self._output is not None:
            self._output.close()
            self._output = None

    def restart(self) -> None:
        self.stop()
        self.start()

    async def restart_async(self) -> None:
        await asyncio.to_thread(self.restart)

    async def stop_async(self) -> None:
        await asyncio.to_thread(self.stop)

    async def start_async(self) -> None:
        await asyncio.to_thread(self.start)

    async def override_ratelimit_async(self, admin: MatrixUser, user_id: str, per_second: int | None) -> None:
        await asyncio.to_thread(self.override_ratelimit, admin, user_id, per_second)

    def log_tail(self, lines: int = 30) -> str:
        chunks = []
        for name in ("stdout.log", "homeserver.log"):
            path = self._workdir / name
            if path.exists():
                chunks.extend(path.read_text(errors="replace").splitlines()[-lines:])
        return "\n".join(chunks)

    def register(self, localpart: str, password: str, *, admin: bool = False) -> MatrixUser:
        """Create a user through the shared-secret admin API (nonce + HMAC-SHA1) and return its login."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        nonce = self._http_json("GET", endpoint)["nonce"]
        mac = hmac.new(self._shared_secret.encode(), digestmod=hashlib.sha1)
        for part in (nonce, localpart, password):
            mac.update(part.encode())
            mac.update(b"\x00")
        mac.update(b"admin" if admin else b"notadmin")
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        answer = self._http_json("POST", endpoint, body)
        return MatrixUser(answer["user_id"], password, answer["access_token"], answer["device_id"])

    def override_ratelimit(self, admin: MatrixUser, user_id: str, per_second: int | None) -> None:
        """Give one user its own message rate limit (``None`` removes the override) via the admin API."""
        url = f"{self.url}/_synapse/admin/v1/users/{urllib.parse.quote(user_id)}/override_ratelimit"
        if per_second is None:
            self._http_json("DELETE", url, token=admin.access_token)
        else:
            body = {"messages_per_second": per_second, "burst_count": 1}
            self._http_json("POST", url, body, token=admin.access_token)

    def _http_json(
        self, method: str, url: str, body: dict[str, object] | None = None, *, token: str | None = None
    ) -> dict[str, str]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise SynapseError(f"{method} {url} → {exc.code}: {detail}") from None
