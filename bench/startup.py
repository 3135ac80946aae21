"""Start-up benchmark: how long the ``newsalert`` command takes before it does its work.

    newsalert bench --only startup [--quick]      (or: python -m bench --only startup)

Each command runs as a user runs it (a fresh ``python -m bot`` process, hermetic environment, a scratch
database holding the shipped seeds) several times; the median wall time and the median CPU time of the child
process are reported, with ``python -c pass`` measured in the same run as the interpreter's own floor.
``run`` is "ready" when the console chat answers its first command (``/stats``), i.e. database open,
migrations checked, seeds loaded, matching index built, catalogs loaded, transports and scheduler up.
The first start (empty database, empty cache folder) is reported on its own.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rich.table import Table

from bench.common import progress, repo_root

FULL_REPEATS = 7
QUICK_REPEATS = 3
MATCH_TEXT = "Kremlchef Wladimir Putin ist zu einem Staatsbesuch in Nordkorea eingetroffen."
# (key, what the table calls it, arguments after ``python``)
COMMANDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("python", "python -c pass (floor)", ("-c", "pass")),
    ("help", "newsalert --help", ("-m", "bot", "--help")),
    ("match", "newsalert match", ("-m", "bot", "match", "--query", "Putin", "--text", MATCH_TEXT)),
    ("search", "newsalert search", ("-m", "bot", "search", "Putin")),
)
TARGET_S = {"help": 0.3, "match": 0.3, "search": 0.3, "run_ready": 1.5}
# A bot in use follows something: its start compiles every subscription (the queries' words need lemmas).
SUBSCRIPTIONS = ("Putin", "Munition", "arms deal", "Gaspreise", "Kim")


def _environment(workdir: Path) -> dict[str, str]:
    """The caller's environment minus any NEWSALERT_* setting, plus a scratch database, the seeds and a
    scratch cache folder (the very first start builds the derived caches, as on a new machine).

    Python keeps compiled bytecode, as an installed package and a user's checkout have it:
    PYTHONDONTWRITEBYTECODE (set in some shells and sandboxes) is dropped, so the checkout's own modules are
    compiled once into their (git-ignored) __pycache__ folders instead of at every start."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSALERT_") and k != "PYTHONDONTWRITEBYTECODE"}
    env |= {
        "NEWSALERT_DB_PATH": str(workdir / "startup.db"),
        "NEWSALERT_SEEDS_DIR": str(repo_root() / "seeds"),
        "NEWSALERT_LOG_LEVEL": "WARNING",
        "XDG_CACHE_HOME": str(workdir / "cache"),  # the default cache folder of every command
        "PYTHONUNBUFFERED": "1",  # replies reach the pipe at once, as they reach a terminal line by line
        "PYTHONPATH": os.pathsep.join(filter(None, [str(repo_root()), env.get("PYTHONPATH", "")])),
    }
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(args: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one command run to its end; children run one at a time, so the
    growth of RUSAGE_CHILDREN is this child's CPU time."""
    cpu_before, started = _children_cpu(), time.perf_counter()
    subprocess.run(
        [sys.executable, *args], env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, check=False
    )
    return time.perf_counter() - started, _children_cpu() - cpu_before


def _subscribe(env: dict[str, str], cwd: Path) -> None:
    """One unmeasured console session that subscribes the console chat to ``SUBSCRIPTIONS``."""
    commands = "".join(f"/subscribe {query}\n" for query in SUBSCRIPTIONS)
    args = [sys.executable, "-m", "bot", "run"]
    subprocess.run(args, env=env, cwd=cwd, input=commands, capture_output=True, text=True, check=True)


def _run_ready(env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(seconds until ``newsalert run`` answers ``/stats`` in the console, CPU seconds of the whole run)."""
    cpu_before, started = _children_cpu(), time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as bot:
        assert bot.stdin is not None and bot.stdout is not None
        bot.stdin.write("/stats\n")
        bot.stdin.flush()
        first = bot.stdout.readline()  # the reply's first line: the bot is up and answering
        ready = time.perf_counter() - started
        bot.stdin.close()
        bot.stdout.read()
        bot.wait()
    if not first:
        raise RuntimeError("newsalert run did not answer /stats (see its stderr)")
    return ready, _children_cpu() - cpu_before


def run(quick: bool = False, data_dir: Path | None = None, repeats: int | None = None) -> dict[str, float]:
    """Keys ``startup_<command>_s`` (median wall) and ``startup_<command>_cpu_s`` for python (the floor),
    help, match, search, run_ready and run_subscribed (ready with ``SUBSCRIPTIONS`` in the database);
    ``startup_run_first_ready_s`` is the very first start (empty database
    and cache folder: migrations, seeding and the derived caches included)."""
    repeats = repeats or (QUICK_REPEATS if quick else FULL_REPEATS)
    figures: dict[str, float] = {"startup_repeats": float(repeats)}
    with tempfile.TemporaryDirectory(prefix="newsalert-bench-startup-") as tmp:
        workdir = Path(tmp)
        env = _environment(workdir)
        figures["startup_run_first_ready_s"], _ = _run_ready(env, workdir)
        for key, label, args in COMMANDS:
            _timed(args, env, workdir)  # one unmeasured run: the OS file cache, as for a user's second call
            samples = [_timed(args, env, workdir) for _ in range(repeats)]
            _store(figures, key, samples)
            progress(f"startup: {label}: {figures[f'startup_{key}_s']:.3f}s")
        _store(figures, "run_ready", [_run_ready(env, workdir) for _ in range(repeats)])
        progress(f"startup: newsalert run ready: {figures['startup_run_ready_s']:.3f}s")
        _subscribe(env, workdir)
        _store(figures, "run_subscribed", [_run_ready(env, workdir) for _ in range(repeats)])
        progress(f"startup: newsalert run ready, {len(SUBSCRIPTIONS)} subscriptions: "
                 f"{figures['startup_run_subscribed_s']:.3f}s")  # fmt: skip
    return figures


def _store(figures: dict[str, float], key: str, samples: list[tuple[float, float]]) -> None:
    figures[f"startup_{key}_s"] = statistics.median(wall for wall, _ in samples)
    figures[f"startup_{key}_cpu_s"] = statistics.median(cpu for _, cpu in samples)


def table(figures: dict[str, float]) -> Table:
    out = Table(title=f"start-up (median of {int(figures['startup_repeats'])} runs each)")
    for column in ("command", "wall s", "CPU s", "target"):
        out.add_column(column, justify="left" if column == "command" else "right")
    rows = [(key, label) for key, label, _ in COMMANDS] + [
        ("run_ready", "newsalert run, ready (seeded)"),
        ("run_subscribed", f"newsalert run, ready ({len(SUBSCRIPTIONS)} subscriptions)"),
    ]
    for key, label in rows:
        target = TARGET_S.get(key)
        out.add_row(
            label,
            f"{figures[f'startup_{key}_s']:.3f}",
            f"{figures[f'startup_{key}_cpu_s']:.3f}",
            f"≤ {target}" if target else "",
        )
    out.caption = f"first start on an empty database (migrations, seeding): {figures['startup_run_first_ready_s']:.2f}s"
    return out
