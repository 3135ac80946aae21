"""Files and folders on disk → ParsedItems, streaming corpora and never reading an oversized file."""

from __future__ import annotations

import gzip
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from bot.core.ingest.documents import (
    GZIP_MAGIC,
    JSONL,
    format_of,
    gunzip,
    parse_bytes,
    too_large,
    unsupported,
)
from bot.core.ingest.items import ParsedItem, rejected
from bot.core.ingest.records import iter_jsonl
from bot.core.ingest.text import binary_kind

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
_PEEK_BYTES = 8192


def iter_files(path: Path, *, errors: list[tuple[Path, str]] | None = None) -> Iterator[Path]:
    """``path`` itself, or every file below the folder: recursive, sorted, hidden files and folders skipped.

    Folders that cannot be listed are appended to ``errors`` (when given) instead of raising.
    """
    if not _is_dir(path):
        yield path
        return
    found: list[Path] = []

    def unreadable(exc: OSError) -> None:
        if errors is not None:
            errors.append((Path(exc.filename or path), f"cannot read folder: {exc.strerror or exc}"))

    # os.walk does not follow symlinked folders, so a link loop cannot trap us.
    for folder, subfolders, names in os.walk(path, onerror=unreadable):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found.extend(Path(folder, name) for name in names if not name.startswith("."))
    yield from sorted(found)


def _is_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(path.stat().st_mode)
    except OSError:
        return False  # reported by the per-file checks


def iter_path(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[ParsedItem]:
    """Items of a file or of every file in a folder. Never raises for bad input; blocking I/O (use a thread)."""
    errors: list[tuple[Path, str]] = []
    for file in iter_files(path, errors=errors):
        yield from iter_file(file, max_bytes=max_bytes)
    for folder, problem in errors:
        yield rejected(str(folder), problem)


def iter_file(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[ParsedItem]:
    label = str(path)
    problem = _precheck(path, max_bytes)
    if problem:
        yield rejected(label, problem)
        return
    fmt = format_of(path.name)
    if fmt is None:
        yield rejected(label, unsupported(path.name))
        return
    try:
        if fmt == JSONL:
            yield from _stream_jsonl(path, label)
        else:
            yield from parse_bytes(label, fmt, _read(path, max_bytes))
    except ValueError as exc:  # corrupt or oversized gzip content
        yield rejected(label, str(exc))
    except OSError as exc:
        yield rejected(label, f"cannot read file: {exc.strerror or exc}")


def _precheck(path: Path, max_bytes: int) -> str | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return "no such file (a broken link?)"
    except OSError as exc:
        return f"cannot read file: {exc.strerror or exc}"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"  # a FIFO or device would block or never end
    if info.st_size == 0:
        return "empty file"
    if info.st_size > max_bytes:
        return too_large(info.st_size, max_bytes)
    if not os.access(path, os.R_OK):
        return "cannot read file: permission denied"
    return None


def _read(path: Path, max_bytes: int) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)  # the file may have grown since stat()
    if len(data) > max_bytes:
        raise ValueError(too_large(len(data), max_bytes))
    if data.startswith(GZIP_MAGIC):
        return gunzip(data, max_bytes)
    if path.name.lower().endswith(".gz"):
        raise ValueError("not a gzip file (the name ends in .gz)")
    return data


def _stream_jsonl(path: Path, label: str) -> Iterator[ParsedItem]:
    with path.open("rb") as raw:
        compressed = raw.peek(2)[:2] == GZIP_MAGIC
        if path.name.lower().endswith(".gz") and not compressed:
            yield rejected(label, "not a gzip file (the name ends in .gz)")
            return
        stream: gzip.GzipFile | io.BufferedReader = gzip.GzipFile(fileobj=raw) if compressed else raw
        with stream:
            problem = _binary_stream(stream)
            if problem:
                yield rejected(label, problem)
                return
            empty = True
            for item in iter_jsonl(stream, label, default_source=path.name):
                empty = False
                yield item
            if empty:
                yield rejected(label, "file contains only whitespace")


def _binary_stream(stream: gzip.GzipFile | io.BufferedReader) -> str | None:
    try:
        head = stream.peek(_PEEK_BYTES)[:_PEEK_BYTES]
    except (OSError, EOFError) as exc:
        return f"corrupt gzip file: {exc or type(exc).__name__}"
    return binary_kind(head)
