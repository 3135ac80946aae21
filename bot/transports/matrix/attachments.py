"""Files sent to the bot (``!addseed``): which file a command means, and downloading it within the limit.

A file in an encrypted room carries ``file`` (URL plus AES key, IV and SHA-256) instead of ``url``; it is
downloaded under the same size limit and decrypted (which also checks the hash) off the event loop.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import quote

from aiohttp import ClientError
from nio import AsyncClient
from nio.crypto import decrypt_attachment
from nio.exceptions import EncryptionError

from bot.core.messaging import Attachment
from bot.transports.matrix.formatting import parse_mxc

FILE_CACHE_SIZE = 256


class FileKeys(NamedTuple):
    """What decrypts an encrypted attachment (the ``file`` object of the event)."""

    key: str
    iv: str
    sha256: str


@dataclass(frozen=True, slots=True)
class FileEvent:
    event_id: str
    sender: str
    filename: str
    size: int | None
    mime_type: str | None
    url: str
    keys: FileKeys | None = None


def file_event(source: dict[str, Any]) -> FileEvent | None:
    """The file an ``m.file`` event (plain or decrypted) offers, or None for anything else."""
    content = source.get("content") or {}
    if not isinstance(content, dict) or content.get("msgtype") != "m.file":
        return None
    url, keys = content.get("url"), None
    encrypted = content.get("file")
    if isinstance(encrypted, dict):
        url, keys = encrypted.get("url"), _file_keys(encrypted)
        if keys is None:
            return None
    if not isinstance(url, str):
        return None
    info = content.get("info") or {}
    size = info.get("size")
    return FileEvent(
        event_id=str(source.get("event_id", "")),
        sender=str(source.get("sender", "")),
        filename=str(content.get("filename") or content.get("body") or "upload"),
        size=size if isinstance(size, int) and size >= 0 else None,
        mime_type=info.get("mimetype") if isinstance(info.get("mimetype"), str) else None,
        url=url,
        keys=keys,
    )


def _file_keys(encrypted: dict[str, Any]) -> FileKeys | None:
    key = (encrypted.get("key") or {}).get("k")
    iv = encrypted.get("iv")
    sha256 = (encrypted.get("hashes") or {}).get("sha256")
    if all(isinstance(value, str) and value for value in (key, iv, sha256)):
        return FileKeys(key, iv, sha256)  # type: ignore[arg-type]
    return None


class FileMemory:
    """The files the bot has seen: each sender's latest one per room (for a bare ``!addseed`` right after
    it) and the most recent ones by event id (for an ``!addseed`` sent as a reply)."""

    def __init__(self, capacity: int = FILE_CACHE_SIZE) -> None:
        self._capacity = capacity
        self._last: dict[tuple[str, str], FileEvent] = {}
        self._by_id: OrderedDict[str, FileEvent] = OrderedDict()

    def remember(self, room_id: str, event: FileEvent) -> None:
        self._last[(room_id, event.sender)] = event
        self._by_id[event.event_id] = event
        self._by_id.move_to_end(event.event_id)
        while len(self._by_id) > self._capacity:
            self._by_id.popitem(last=False)

    def claim_last(self, room_id: str, sender: str) -> FileEvent | None:
        """Only the very next message of the sender may claim their file."""
        return self._last.pop((room_id, sender), None)

    def by_id(self, event_id: str) -> FileEvent | None:
        return self._by_id.get(event_id)


class Downloader:
    """Downloads media, refusing more than ``limit`` bytes (the announced size may lie)."""

    def __init__(self, client: AsyncClient, limit: int) -> None:
        self._client = client
        self._limit = limit

    def attachment(self, event: FileEvent) -> Attachment:
        return Attachment(
            filename=event.filename, size=event.size, mime_type=event.mime_type, fetch=self._fetcher(event)
        )

    def _fetcher(self, event: FileEvent) -> Callable[[], Awaitable[bytes]]:
        async def fetch() -> bytes:
            return await self.download(event)

        return fetch

    async def download(self, event: FileEvent) -> bytes:
        """Raises ``ValueError`` (bad URI, too large, does not decrypt) or ``ConnectionError`` (homeserver
        trouble), the two failures handlers turn into a message for the user."""
        try:
            data = await self._download_checked(event.url)
        except (ClientError, TimeoutError) as exc:
            raise ConnectionError(f"the homeserver did not deliver the file: {exc!r}") from exc
        if event.keys is None:
            return data
        keys = event.keys
        try:
            return await asyncio.to_thread(decrypt_attachment, data, keys.key, keys.sha256, keys.iv)
        except (EncryptionError, ValueError, KeyError) as exc:
            raise ValueError(f"the encrypted file could not be decrypted: {exc}") from exc

    async def _download_checked(self, mxc: str) -> bytes:
        server, media_id = parse_mxc(mxc)
        tail = f"{quote(server, safe='')}/{quote(media_id, safe='')}"
        headers = {"Authorization": f"Bearer {self._client.access_token}"}
        # Authenticated media (Matrix 1.11) first; older homeservers only know the legacy endpoint.
        for path in (f"/_matrix/client/v1/media/download/{tail}", f"/_matrix/media/v3/download/{tail}"):
            response = await self._client.send("GET", path, headers=headers)
            try:
                if response.status == 404 and path.startswith("/_matrix/client/v1"):
                    continue
                if response.status != 200:
                    raise ConnectionError(f"download of {mxc} failed with HTTP {response.status}")
                return await self._read_capped(response.content)
            finally:
                response.release()
        raise ConnectionError(f"the homeserver has no media {mxc}")

    async def _read_capped(self, stream: Any) -> bytes:
        # read(n) returns whatever one network chunk holds, so read until the end or one byte too many
        data = bytearray()
        while len(data) <= self._limit:
            chunk = await stream.read(self._limit + 1 - len(data))
            if not chunk:
                return bytes(data)
            data.extend(chunk)
        raise ValueError(f"the file is larger than the limit of {self._limit} bytes")
