"""WAL checkpoints beside a bulk import, so the one SQLite writer never waits for them.

In WAL mode every commit appends pages to the ``-wal`` file, and a checkpoint copies them back into the
database file and syncs both. With ``wal_autocheckpoint`` the committing connection does that itself, inside
its ``COMMIT``, and the one writer is a bulk import's critical path: an import of the whole RSS corpus
(2.4 GB written in all, 20-80 ms a checkpoint, each syncing both files) took 8.7 s that way
and 7.3-7.6 s with the checkpoints beside it (three interleaved pairs). While a bulk import runs, the
writer's automatic checkpoints are therefore off and :class:`BackgroundCheckpointer` does them from a
connection of its own, concurrently with the writes (``PASSIVE``: it never blocks the writer or a reader).

A checkpoint alone does not bound the ``-wal`` file: SQLite starts writing it from the beginning again only
when a write transaction begins while every frame is checkpointed. A writer that commits every few
milliseconds is almost never there by chance. So once the file holds :data:`RESTART_FRAMES` frames, the
checkpointer takes the writer's turn, checkpoints the few frames committed since its last pass and gives the
turn back: the writer's next transaction starts the file over. That pause (15-40 ms, about ten times in
that import) is the only time the writer waits. A threshold twice as high halved the pauses, gained no
measurable time and let the file grow to 170 MB instead of 110 MB.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_S = 0.2  # a pass copies what 0.2 s of an import wrote: 20-50 ms, off the writer's thread
RESTART_FRAMES = 16_384  # 64 MiB of 4 KiB pages: the -wal file's size during an import, before it starts over
TRUNCATE_WAIT_S = 0.1


class BackgroundCheckpointer:
    """Passive checkpoints of ``path`` every ``every`` seconds until :meth:`stop`, from its own connection.

    ``writer_turn`` is the writer's lock (held, no write transaction is open). ``on_failure`` is awaited once
    if a checkpoint fails (a full disk, an I/O error): the checkpointer stops, the import goes on, and the
    caller turns the writer's own checkpoints back on."""

    def __init__(
        self,
        path: Path | str,
        writer_turn: Callable[[], AbstractAsyncContextManager[object]],
        on_failure: Callable[[], Awaitable[None]],
        *,
        every: float = CHECKPOINT_EVERY_S,
        restart_frames: int = RESTART_FRAMES,
    ) -> None:
        self._path = str(path)
        self._writer_turn = writer_turn
        self._on_failure = on_failure
        self._every = every
        self._restart_frames = restart_frames
        self._conn: sqlite3.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # Used from the loop's worker threads, one call at a time (never two at once: check_same_thread off).
        # A short busy timeout: only the final TRUNCATE ever waits (for a reader of another process), and it
        # is worth no more than a moment.
        self._conn = await asyncio.to_thread(
            sqlite3.connect, self._path, timeout=TRUNCATE_WAIT_S, isolation_level=None, check_same_thread=False
        )
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """The last checkpoint, in the writer's turn, also empties the ``-wal`` file (``TRUNCATE``): after the
        import it would otherwise keep its 64 MiB or more. Best effort: a reader elsewhere may hold it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._conn is not None:
            try:
                async with self._writer_turn():
                    await asyncio.to_thread(self._conn.execute, "PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:
                log.info("the WAL file was not emptied after the import: %s", exc)
            finally:
                await asyncio.to_thread(self._conn.close)
                self._conn = None

    async def step(self) -> int:
        """One pass: checkpoint what is committed, then (when the file has grown to :data:`RESTART_FRAMES`)
        the rest in the writer's turn. Returns the frames the ``-wal`` file held at the first checkpoint."""
        frames = await asyncio.to_thread(self._checkpoint)
        if frames >= self._restart_frames:
            async with self._writer_turn():
                await asyncio.to_thread(self._checkpoint)
        return frames

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            try:
                await self.step()
            except sqlite3.Error as exc:
                log.warning("background checkpoints stopped (%s); the writer checkpoints again itself", exc)
                await self._on_failure()
                return

    def _checkpoint(self) -> int:
        assert self._conn is not None  # started
        _busy, frames, _copied = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(frames)
