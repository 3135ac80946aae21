"""End-to-end encryption: the crypto store on disk, its lock, its pickle key, and the key upkeep that nio's
``sync_forever`` would do after every sync (our sync loop is hand-written, so it must do it itself).

The store is nio's ``SqliteStore``, one file per device (``<user>_<device>.db``) in the store folder; it holds
the bot's identity keys, Olm sessions with every reader's device and the room (Megolm) keys. It is
encrypted with the pickle key; the bot's own durable state keeps the device id that names the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
from collections.abc import Awaitable
from pathlib import Path
from typing import IO, TypeVar

from nio import AsyncClient, ErrorResponse
from nio.store import SqliteStore

from bot.transports.base import TransportHost, TransportStartError

log = logging.getLogger(__name__)
T = TypeVar("T")

STATE_PICKLE_KEY = "matrix.pickle_key"  # only when NEWSALERT_MATRIX__PICKLE_KEY is not set
LOCK_FILE = "newsalert.lock"

StoreClass = SqliteStore  # trust state inside the one SQLite file, no side files to forget in a backup


class StoreLocked(TransportStartError):
    """Another process already uses this crypto store."""


def store_file(store_dir: Path, user_id: str, device_id: str) -> Path:
    """The file nio's ``SqliteStore`` keeps for one device (its default name)."""
    return store_dir / f"{user_id}_{device_id}.db"


class StoreLock:
    """An exclusive ``flock`` on a file in the store folder, held while the transport runs.

    Two processes writing one Olm account would burn each other's one-time keys and corrupt sessions, so a
    second ``newsalert run`` on the same store is refused. The kernel drops the lock when a process dies, so
    a crash never leaves a stale lock behind.
    """

    def __init__(self, store_dir: Path) -> None:
        self._path = store_dir / LOCK_FILE
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle = self._path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StoreLocked(
                f"the Matrix store {self._path.parent} is in use by {holder}: only one newsalert may run on it"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


async def pickle_key(configured: str | None, host: TransportHost) -> str:
    """The configured key, else the one generated on the first start and kept in the bot's state."""
    if configured:
        return configured
    stored = await host.get_state(STATE_PICKLE_KEY)
    if stored:
        return stored
    generated = secrets.token_urlsafe(32)
    await host.set_state(STATE_PICKLE_KEY, generated)
    return generated


class KeyUpkeep:
    """After each sync: send queued to-device messages, and upload, query and claim keys as nio asks."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def after_sync(self) -> None:
        client = self._client
        if client.olm is None:
            return
        if client.outgoing_to_device_messages:
            await client.send_to_device_messages()
        if client.should_upload_keys:
            await _checked(client.keys_upload(), "upload of the bot's keys")
        if client.should_query_keys:
            # nio renews the room key of every encrypted room a member with changed devices is in, so a new
            # device can read the next alert
            await _checked(client.keys_query(), "query of members' device keys")
        if client.should_claim_keys:
            await _checked(client.keys_claim(client.get_users_for_key_claiming()), "claim of one-time keys")


async def _checked(request: Awaitable[T], what: str) -> T:
    answer = await request
    if isinstance(answer, ErrorResponse):
        log.warning("matrix: %s failed: %s", what, answer)
    return answer
