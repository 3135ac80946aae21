"""The watchdog of :mod:`tests.reaper`: a server outlives neither a killed owner nor itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests.conftest import REPO
from tests.reaper import guard, wait_gone

# An owner that starts a "server" (a long sleep), guards it, prints its pid and then hangs until killed.
_OWNER = """
import subprocess, sys, time
from tests.reaper import guard
server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
guard(server.pid)
print(server.pid, flush=True)
time.sleep(600)
"""


def test_a_guarded_server_is_stopped_when_its_owner_is_killed() -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER], cwd=REPO, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    assert owner.stdout is not None
    server_pid = int(owner.stdout.readline())
    assert not wait_gone(server_pid, 0.2)  # running while its owner lives
    owner.kill()  # SIGKILL: no finaliser of the owner runs
    owner.wait()
    assert wait_gone(server_pid, 20), "the watchdog did not stop the orphaned server"


def test_the_watchdog_leaves_when_its_server_stops() -> None:
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    watchdog = guard(server.pid)
    server.send_signal(signal.SIGTERM)
    server.wait()
    watchdog.release(timeout=20)  # would SIGKILL a watchdog still running after 20 s: returncode -9
    assert watchdog.process.returncode == 0
