"""Multi-row statements of a few fixed sizes, shared by the repositories that write in bulk.

One ``INSERT … VALUES (…),(…),…`` of many rows costs far less than one statement per row (an
``executemany``): the statement is prepared and run once, and SQLite's FTS5 flushes its pending terms once
per statement, not once per row. Every distinct row count is another prepared statement that the driver
caches, so a batch is cut into chunks of :data:`CHUNK_ROWS` and the rest into powers of two: at most ten
sizes ever occur.

Each statement is also a round trip to the database thread, and under load every round trip waits for the
GIL twice (the driver's thread, then the event loop). :func:`padded_chunks` therefore rounds the rest *up*
to one statement, repeating its last row, where a repeated row changes nothing (``INSERT … ON CONFLICT DO
NOTHING``, ``UPDATE … WHERE id IN``): a batch of 969 articles is two statements instead of seven.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

CHUNK_ROWS = 500  # rows per statement: 500 × 11 columns stays far below SQLite's and PostgreSQL's limits
T = TypeVar("T")


def chunk_sizes(count: int, chunk: int = CHUNK_ROWS) -> list[int]:
    """``count`` as statements of ``chunk`` rows, the rest in powers of two (largest first)."""
    sizes = [chunk] * (count // chunk)
    rest = count % chunk
    sizes.extend(1 << bit for bit in range(rest.bit_length() - 1, -1, -1) if rest >> bit & 1)
    return sizes


def chunks(rows: Sequence[T], chunk: int = CHUNK_ROWS) -> Iterator[Sequence[T]]:
    """``rows`` cut as :func:`chunk_sizes` says, in order."""
    start = 0
    for size in chunk_sizes(len(rows), chunk):
        yield rows[start : start + size]
        start += size


def padded_size(count: int, chunk: int = CHUNK_ROWS) -> int:
    """The statement size for a chunk of ``count`` rows (1 ≤ count ≤ ``chunk``): ``chunk`` itself, or the
    next power of two when that is smaller (the same ten sizes :func:`chunk_sizes` uses)."""
    return min(chunk, 1 << (count - 1).bit_length())


def padded_chunks(rows: Sequence[T], chunk: int = CHUNK_ROWS) -> Iterator[list[T]]:
    """``rows`` in statements of ``chunk`` rows, the last one filled up to :func:`padded_size` by repeating
    its last row. Only for statements that a repeated row leaves unchanged (see the module's docstring)."""
    for start in range(0, len(rows), chunk):
        part = list(rows[start : start + chunk])
        part.extend([part[-1]] * (padded_size(len(part), chunk) - len(part)))
        yield part


def values_list(columns: int, rows: int) -> str:
    """``(?,?,?),(?,?,?)`` for ``rows`` rows of ``columns`` values."""
    one = "(" + ",".join("?" * columns) + ")"
    return ",".join([one] * rows)


def flat(rows: Sequence[Sequence[object]]) -> list[object]:
    """The parameters of a multi-row statement, row after row."""
    return [value for row in rows for value in row]
