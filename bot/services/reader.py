"""The first stage of a bulk import: reading, parsing and hashing a file, batch by batch, one batch ahead.

Parsing is pure Python and holds the GIL, which matching (also Python) needs too. For a big file the stage
runs in a child process, so the two use both cores; the child parses batch k+1 while the parent stores and
matches batch k, and blocks on the pipe until the parent takes it, so at most two batches are in flight.
Small inputs use a thread: starting an interpreter costs more than their parsing.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Protocol

from bot.core.ingest import ParsedItem, content_hash, iter_files, iter_path

Hashed = tuple[ParsedItem, str | None]  # an item and its content hash (None when rejected)

BATCH = 1000
# A batch also ends at this many characters of text: long articles (German full texts run to 3 KB each) then
# come in batches of a few hundred, so matching one overlaps storing the next even in a 1,000-item file, and
# a file of huge lines never holds a thousand of them in memory at once.
BATCH_CHARS = 400_000
PROCESS_MIN_BYTES = 8 * 1024 * 1024  # from this much input on, a child process pays off


class BatchReader(Protocol):
    def next_batch(self) -> list[Hashed]:
        """The next batch (blocking: call it in a thread); ``[]`` at the end."""

    def close(self) -> None:
        """Stop reading (also before the end) and release the thread's stream or the child process."""


def take(stream: Iterator[ParsedItem], count: int = BATCH, max_chars: int = BATCH_CHARS) -> list[Hashed]:
    """The next ``count`` items (fewer once they hold ``max_chars`` of text) with their content hashes,
    computed in the reading stage (hashing normalises the whole text, kept off the event loop)."""
    batch = []
    chars = 0
    for item in stream:
        draft = item.draft
        batch.append((item, content_hash(draft) if draft is not None else None))
        chars += len(draft.body) + len(draft.title) if draft is not None else 0
        if len(batch) >= count or chars >= max_chars:
            break
    return batch


class ThreadReader:
    def __init__(self, path: Path, max_bytes: int | None) -> None:
        self._stream = iter_path(path, **_limit(max_bytes))

    def next_batch(self) -> list[Hashed]:
        return take(self._stream)

    def close(self) -> None:
        self._stream.close()


class ProcessReader:
    """The same batches as :class:`ThreadReader`, parsed in a child process (``spawn``: the parent has
    threads, which ``fork`` must not copy)."""

    def __init__(self, path: Path, max_bytes: int | None) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_end = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_serve, args=(child_end, str(path), max_bytes), name="newsalert-reader", daemon=True
        )
        self._process.start()
        child_end.close()  # the child holds it now; the parent sees EOF if the child dies
        self._done = False

    def next_batch(self) -> list[Hashed]:
        if self._done:
            return []
        try:
            kind, payload = self._conn.recv()
        except EOFError:
            self._done = True
            raise ReaderError(f"the reading process stopped unexpectedly (exit code {self._exit_code()})") from None
        if kind == "error":
            self._done = True
            raise ReaderError(f"the reading process failed: {payload}")
        if not payload:
            self._done = True
        return payload  # type: ignore[no-any-return]

    def close(self) -> None:
        self._conn.close()  # a child blocked on sending gets a broken pipe and ends
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()

    def _exit_code(self) -> int | None:
        self._process.join(timeout=5)
        return self._process.exitcode


class ReaderError(RuntimeError):
    """The child process reading a file died or failed (not bad input: that becomes rejected items)."""


def open_reader(path: Path, max_bytes: int | None, *, in_process: bool | None = None) -> BatchReader:
    """A process for big inputs (or when ``in_process`` says so), else a thread."""
    if in_process is None:
        in_process = _input_bytes(path) >= PROCESS_MIN_BYTES
    return ProcessReader(path, max_bytes) if in_process else ThreadReader(path, max_bytes)


def _input_bytes(path: Path) -> int:
    total = 0
    for file in iter_files(path):
        try:
            total += file.stat().st_size
        except OSError:
            continue  # reported as a rejected item by the reading itself
        if total >= PROCESS_MIN_BYTES:
            break
    return total


def _limit(max_bytes: int | None) -> dict[str, int]:
    return {"max_bytes": max_bytes} if max_bytes else {}


def _serve(conn: Connection, path: str, max_bytes: int | None) -> None:
    """The child: every batch of ``path``, then an empty one. A parent gone away ends it quietly."""
    try:
        stream = iter_path(Path(path), **_limit(max_bytes))
        while True:
            batch = take(stream)
            conn.send(("batch", batch))
            if not batch:
                return
    except OSError:  # the parent closed its end (it stopped early): nothing to report to
        return
    except Exception as exc:  # reported to the parent, which raises it as ReaderError
        try:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        except OSError:
            return
    finally:
        conn.close()
