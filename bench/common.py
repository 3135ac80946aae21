"""Shared pieces of the benchmarks: where the corpora are, memory and machine facts, hermetic settings,
progress lines on stderr, and seeding chats with subscriptions through the storage layer."""

from __future__ import annotations

import gzip
import importlib
import json
import os
import platform
import resource
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.models import ChatKey, Subscription

# The engine, storage and settings are imported where used: `newsalert bench --help` (and every other
# command, which registers the bench's arguments) must not pay for them.
if TYPE_CHECKING:
    from bot.core.matching import MatchEngine
    from bot.storage.store import Storage
    from config.settings import Settings, TelegramSettings
    from tests.telegram_server import BotApiServer

RSS_CORPUS = "en_rss_2023.jsonl.gz"
GERMAN_CORPORA = ("de_10kgnad_test.jsonl", "de_wikinews_qa.jsonl")


class BenchError(Exception):
    """A benchmark cannot run (missing corpus, bad option); reported as one line, never a traceback."""


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def default_data_dir() -> Path:
    """``shared/data`` next to the repository (or next to a folder above it: a git worktree such as
    ``/work/wt/NAME`` sits one level deeper than the main checkout), whatever the working directory."""
    for folder in repo_root().parents:
        candidate = folder / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return repo_root().parent / "shared" / "data"


def corpus_path(name: str, data_dir: Path | None = None) -> Path:
    path = (data_dir or default_data_dir()) / name
    if not path.is_file():
        raise BenchError(f"benchmark corpus not found: {path} (pass --data DIR)")
    return path


def iter_records(path: Path) -> Iterator[dict[str, object]]:
    """The JSON objects of a ``.jsonl`` or ``.jsonl.gz`` corpus (blocking: call from a thread or setup)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def record_text(record: dict[str, object]) -> tuple[str, str]:
    """``(title, body)`` of a corpus record; the German 10kGNAD set has a lead instead of a title."""
    title = str(record.get("title") or record.get("lead") or "").strip()
    body = str(record.get("text") or "").strip()
    return title, body


def load_test_server() -> type[BotApiServer]:
    """The Bot API test server lives in the checkout's ``tests/`` (not an installed package), so the bench
    puts the repository on the import path when run from elsewhere."""
    root = str(repo_root())
    if root not in sys.path:
        sys.path.append(root)
    try:
        module = importlib.import_module("tests.telegram_server")
    except ImportError as exc:
        raise BenchError(
            f"the Telegram test server is not available ({exc}); run from a full checkout"
        ) from None
    server: type[BotApiServer] = module.BotApiServer
    return server


def progress(message: str) -> None:
    """One timestamped line on stderr: the table and the JSON own stdout."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports KiB); each benchmark runs in its own process."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ChildrenPeak:
    """The largest peak resident set (``VmHWM``) of this process's children while the block runs, sampled
    from ``/proc`` every 0.1 s (a high-water mark: a late sample still sees an early peak). ``RUSAGE_CHILDREN``
    cannot tell it: its ``ru_maxrss`` counts the parent's pages a spawned child still shared between fork and
    exec (140 MB for a reader that peaks at 32 MB)."""

    def __init__(self, every: float = 0.1) -> None:
        self.mb = 0.0
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="bench-children-peak", daemon=True)

    def __enter__(self) -> ChildrenPeak:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(self._every):
            for pid in _child_pids():
                self.mb = max(self.mb, _peak_mb(pid))


def _child_pids() -> list[str]:
    """Each thread's children (``/proc/self/task/<tid>/children`` lists those that thread started)."""
    pids: list[str] = []
    for task in os.scandir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task.name}/children", encoding="ascii") as children:
                pids.extend(children.read().split())
        except OSError:  # the thread ended meanwhile
            continue
    return pids


def _peak_mb(pid: str) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # gone meanwhile
        pass
    return 0.0


def children_cpu_s() -> float:
    """CPU time (user + system) of the children this process has waited for."""
    times = os.times()
    return times.children_user + times.children_system


def current_rss_mb() -> float:
    """Resident memory now, for curves (the peak only ever grows)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return peak_rss_mb()
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine_info() -> dict[str, object]:
    return {
        "cores": os.cpu_count() or 1,
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def machine_line(machine: dict[str, object]) -> str:
    return (
        f"{machine['cpu_model']}, {machine['cores']} cores, Python {machine['python']}, "
        f"{machine['platform']}, {machine['measured_at']}"
    )


def bench_settings(workdir: Path, telegram: TelegramSettings | None = None) -> Settings:
    """Settings that ignore the caller's environment and ``.env``: a fresh database in ``workdir``,
    no seeds, no Matrix, Telegram only when given."""
    from config.settings import FeedSettings, MatrixSettings, Settings, TelegramSettings

    return Settings(
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings init option
        db_path=workdir / "bench.db",
        seeds_dir=workdir / "no-seeds",
        log_level="WARNING",
        telegram=telegram or TelegramSettings(),
        matrix=MatrixSettings(),
        feeds=FeedSettings(),
    )


@dataclass(frozen=True, slots=True)
class SeededChat:
    pk: int
    chat_id: str
    subscriptions: tuple[Subscription, ...]


async def seed_chats(
    storage: Storage,
    engine: MatchEngine,
    chats: Sequence[tuple[str, Sequence[str]]],
    *,
    platform_name: str = "telegram",
) -> list[SeededChat]:
    """Private chats ``(chat_id, queries)`` subscribed through the repositories (what ``subscribe`` stores);
    queries the engine refuses are skipped."""
    from bot.core.matching import QueryError

    now = datetime.now(UTC)
    seeded = []
    for chat_id, queries in chats:
        chat, _ = await storage.chats.get_or_create(ChatKey(platform_name, chat_id), now)
        subs = []
        for query in queries:
            try:
                resolution = engine.resolve(query)
            except QueryError:
                continue
            sub = await storage.subscriptions.add(chat.id, query, resolution.key, now)
            if sub is not None:
                subs.append(sub)
        seeded.append(SeededChat(chat.id, chat_id, tuple(subs)))
    return seeded
