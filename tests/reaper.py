"""Servers the tests start die with the test process that started them, even when that process is killed.

A fixture stops its server by pid in its finaliser, but a finaliser never runs when the pytest process (an
xdist worker, say) is SIGKILLed or crashes. :func:`guard` starts a small watchdog process beside a server:
it waits, without polling, on process handles (pidfds) of the owner and of the server. If the owner goes
first, the watchdog signals the server by its handle (never a reused pid), and SIGKILLs it after a grace
period; if the server goes first, the watchdog just exits.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from dataclasses import dataclass

# Run as ``python -I -S -c WATCHDOG owner server signal grace``: standard library only, no site, so it
# starts in milliseconds and does not import the project.
WATCHDOG = """
import os, select, signal, sys
owner, server, sig, grace = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
try:
    server_fd = os.pidfd_open(server)
except ProcessLookupError:
    sys.exit(0)
try:
    owner_fd = os.pidfd_open(owner)
    owner_alive = os.getppid() == owner  # a reused pid is not our parent
except ProcessLookupError:
    owner_alive = False
if owner_alive:
    ready, _, _ = select.select([owner_fd, server_fd], [], [])
    if server_fd in ready:
        sys.exit(0)
try:
    signal.pidfd_send_signal(server_fd, sig)
    if not select.select([server_fd], [], [], grace)[0]:
        signal.pidfd_send_signal(server_fd, signal.SIGKILL)
except ProcessLookupError:
    pass
"""


@dataclass
class Guard:
    """A running watchdog; :meth:`release` reaps it once its server has stopped (it exits by itself then)."""

    process: subprocess.Popen[bytes]

    def release(self, timeout: float = 10.0) -> None:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:  # the server is still running: the caller gave up on it
            self.process.kill()
            self.process.wait()


def guard(pid: int, stop_signal: int = signal.SIGTERM, *, grace: float = 15.0) -> Guard:
    """Watch server ``pid`` on behalf of this process: if this process dies, ``stop_signal`` stops the server."""
    argv = [sys.executable, "-I", "-S", "-c", WATCHDOG, str(os.getpid()), str(pid), str(int(stop_signal)), str(grace)]
    # A session of its own: a signal to this process group (Ctrl-C, a killed worker) must not take it along.
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    return Guard(process)


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait for ``pid`` (not necessarily our child) to exit, on its pidfd rather than by polling."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([handle], [], [], timeout)[0])
    finally:
        os.close(handle)
