"""Reading an import as batches of parsed, hashed items: in a worker thread, or a large corpus in a child process.

A bulk import runs three stages at once: reading (parsing JSON, cleaning, detecting the language, hashing),
storing (SQLite, which releases the GIL) and matching. Reading and matching are pure Python; in one process
they take turns on the one interpreter lock, and the whole RSS corpus spent 2.5 s of its 9.6 s holding the
lock to read. A JSON Lines file of :data:`CHILD_READER_MIN_BYTES` or more is therefore read by a spawned child
process, one batch ahead, and its batches come back through a pipe as plain tuples (unpickled and rebuilt in
the parent's worker thread: 0.46 s for the whole corpus, a sixth of what reading it costs). Smaller files and
folders stay in a thread: a child costs a tenth of a second to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
import stat
from collections.abc import Iterator
from dataclasses import fields
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from bot.core.ingest import ParsedItem, content_hash, iter_path
from bot.core.ingest.documents import JSONL, format_of
from bot.core.models import ArticleDraft

log = logging.getLogger(__name__)

Hashed = tuple[ParsedItem, str | None]  # an item and its content hash (None when rejected)

BATCH = 1000
# A batch also ends at this many characters of text: long articles (German full texts run to 3 KB each) then
# come in batches of a few hundred, so matching one overlaps storing the next even in a 1,000-item file, and
# a file of huge lines never holds a thousand of them in memory at once.
BATCH_CHARS = 400_000
CHILD_READER_MIN_BYTES = 4 * 1024 * 1024  # on disk (gzip included): thousands of items, reading takes seconds
# The child runs at a lower priority. It is at most a batch ahead, so it can work with what the SQLite writer
# and matching leave of the cores; at the same priority it took CPU from the writer, which is the import's
# critical path, and the whole RSS corpus gained nothing (9.1 s either way). At niceness 10 it took 8.5–9.1 s
# against 9.3–9.9 s in a thread (three pairs); 19 gained no more.
READER_NICENESS = 10
_DRAFT_FIELDS = tuple(field.name for field in fields(ArticleDraft))
_Packed = tuple[str, str, str, tuple[Any, ...] | None, str | None]  # ParsedItem's fields, the draft's, the hash


class BatchReader(Protocol):
    async def next_batch(self) -> list[Hashed]:
        """The next batch; an empty list once the input is exhausted."""

    async def aclose(self) -> None:
        """Stop reading (the input need not be exhausted) and release what the reader holds."""


def batch_sizes() -> Iterator[tuple[int, int]]:
    """``(items, characters)`` of each batch: an eighth of a full batch first, doubling up to :data:`BATCH`.
    Matching starts only when the first batch is parsed and stored; a small one gets it going in a few
    milliseconds instead of after a whole batch (a tenth of a German corpus' time)."""
    for shift in (3, 2, 1):
        yield BATCH >> shift, BATCH_CHARS >> shift
    while True:
        yield BATCH, BATCH_CHARS


def hashed(item: ParsedItem) -> Hashed:
    """The item with its content hash (None when it was rejected)."""
    return item, content_hash(item.draft) if item.draft is not None else None


def take_batch(stream: Iterator[ParsedItem], count: int, max_chars: int = BATCH_CHARS) -> list[Hashed]:
    """The next ``count`` items (fewer once they hold ``max_chars`` of text) with their content hashes,
    computed by the reader (hashing normalises the whole text, kept off the event loop)."""
    batch = []
    chars = 0
    for item in stream:
        batch.append(hashed(item))
        draft = item.draft
        chars += len(draft.body) + len(draft.title) if draft is not None else 0
        if len(batch) >= count or chars >= max_chars:
            break
    return batch


async def open_reader(path: Path, *, max_bytes: int | None, child_min_bytes: int | None) -> BatchReader:
    """The reader for ``path``: a child process for a JSON Lines file of at least ``child_min_bytes`` (never
    when that is None), otherwise a worker thread."""
    if child_min_bytes is not None and await asyncio.to_thread(_is_large_jsonl, path, child_min_bytes):
        try:
            return await ProcessReader.start(path, max_bytes)
        except OSError as exc:  # no process to be had (a process limit, a sandbox): slower, not broken
            log.warning("reading %s in this process: cannot start a reader process (%s)", path, exc)
    return ThreadReader(path, max_bytes)


def _is_large_jsonl(path: Path, min_bytes: int) -> bool:
    try:
        info = path.stat()
    except OSError:
        return False  # the reader reports it as a rejected item, as for any unreadable file
    return stat.S_ISREG(info.st_mode) and info.st_size >= min_bytes and format_of(path.name) == JSONL


class ThreadReader:
    """Each batch read in a worker thread of the event loop's pool."""

    def __init__(self, path: Path, max_bytes: int | None) -> None:
        self._stream = iter_path(path, **_limits(max_bytes))
        self._sizes = batch_sizes()

    async def next_batch(self) -> list[Hashed]:
        return await asyncio.to_thread(take_batch, self._stream, *next(self._sizes))

    async def aclose(self) -> None:
        """Nothing runs between batches: the thread returned with the last one."""


class ReaderProcessError(RuntimeError):
    """The child reading the file stopped without finishing it."""


class ProcessReader:
    """Batches read by a spawned child one ahead of the caller (it blocks on the pipe until they are taken),
    so memory stays at about two batches. The child is killed, by its process id, when the caller stops early."""

    def __init__(self, process: multiprocessing.process.BaseProcess, conn: Connection) -> None:
        self._process = process
        self._conn = conn

    @classmethod
    async def start(cls, path: Path, max_bytes: int | None) -> ProcessReader:
        context = multiprocessing.get_context("spawn")  # never fork: the parent runs SQLite and matching threads
        receiving, sending = context.Pipe(duplex=False)
        process = context.Process(
            target=_read_in_child, args=(str(path), max_bytes, sending), name="newsalert-reader", daemon=True
        )
        try:
            await asyncio.to_thread(process.start)
        except BaseException:
            receiving.close()
            raise
        finally:
            sending.close()  # the child holds its own end: the parent's recv then sees the child exit
        return cls(process, receiving)

    @property
    def pid(self) -> int | None:
        return self._process.pid

    async def next_batch(self) -> list[Hashed]:
        return await asyncio.to_thread(self._receive)

    def _receive(self) -> list[Hashed]:
        try:
            message = pickle.loads(self._conn.recv_bytes())
        except (EOFError, OSError):
            self._process.join(1)
            raise ReaderProcessError(
                f"the process reading the file ended unexpectedly (exit code {self._process.exitcode})"
            ) from None
        if isinstance(message, BaseException):
            raise message
        return [_unpack(packed) for packed in message]

    async def aclose(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        await asyncio.to_thread(self._process.join)
        # A receive that saw the child end may have reaped it in the same moment; close() then still thinks
        # it runs. The process object is freed with the reader either way.
        with contextlib.suppress(ValueError):
            self._process.close()
        self._conn.close()


def _read_in_child(path: str, max_bytes: int | None, conn: Connection) -> None:
    """The child's whole life: every batch down the pipe, then an empty one. An unexpected error goes to the
    parent, which raises it; the parent stopping early (a closed pipe, a kill) ends the child quietly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops the child
    with contextlib.suppress(AttributeError, OSError):  # no os.nice off Unix: the child still reads, at par
        os.nice(READER_NICENESS)
    try:
        stream = iter_path(Path(path), **_limits(max_bytes))
        for count, chars in batch_sizes():
            batch = take_batch(stream, count, chars)
            conn.send_bytes(pickle.dumps([_pack(item, digest) for item, digest in batch], pickle.HIGHEST_PROTOCOL))
            if not batch:
                return
    except (BrokenPipeError, ConnectionResetError):
        return
    except Exception as exc:  # a bug in reading: the parent raises it; the child has no terminal
        with contextlib.suppress(OSError):
            conn.send_bytes(_pickled_error(exc))
    finally:
        conn.close()


def _pickled_error(exc: Exception) -> bytes:
    try:
        return pickle.dumps(exc, pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that cannot travel still gets its message across
        return pickle.dumps(ReaderProcessError(f"{type(exc).__name__}: {exc}"), pickle.HIGHEST_PROTOCOL)


def _pack(item: ParsedItem, digest: str | None) -> _Packed:
    draft = item.draft
    values = None if draft is None else tuple(getattr(draft, name) for name in _DRAFT_FIELDS)
    return item.source, item.status, item.reason, values, digest


def _unpack(packed: _Packed) -> Hashed:
    source, status, reason, values, digest = packed
    draft = None if values is None else ArticleDraft(*values)
    return ParsedItem(source, draft, status, reason), digest


def _limits(max_bytes: int | None) -> dict[str, int]:
    return {"max_bytes": max_bytes} if max_bytes else {}
