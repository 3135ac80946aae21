"""A human with end-to-end encryption, as Element would be: a fresh device per client (password login), its
own crypto store, key upkeep after every sync, encrypted messages and files, and a record of which events
it could only read by decrypting them."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    DownloadResponse,
    LoginResponse,
    MegolmEvent,
    SyncResponse,
)
from nio.crypto import decrypt_attachment, encrypt_attachment
from nio.store import SqliteStore

from tests.matrix.synapse import MatrixUser
from tests.matrix.user import CLIENT_CONFIG, WAIT_S, UserClient


class EncryptedUser(UserClient):
    """Use :meth:`login` (a new device) before anything else."""

    def __init__(self, homeserver: str, account: MatrixUser, store_dir: Path, device_name: str = "test") -> None:
        self.user_id = account.user_id
        self._account = account
        self._device_name = device_name
        store_dir.mkdir(parents=True, exist_ok=True)
        config = dataclasses.replace(CLIENT_CONFIG, encryption_enabled=True, store=SqliteStore, pickle_key="test")
        self.client = AsyncClient(homeserver, account.user_id, store_path=str(store_dir), config=config)
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.decrypted: set[str] = set()  # event ids that arrived encrypted and were decrypted
        self.undecryptable: list[dict[str, Any]] = []
        self._since: str | None = None

    def unreadable_from(self, sender: str, since_ms: float = 0) -> list[dict[str, Any]]:
        """The events of ``sender`` (from ``since_ms`` on) this user could not decrypt. The test accounts are
        shared by tests running at the same time, so other tests' bots' rooms must not count."""
        return [
            event
            for event in self.undecryptable
            if event.get("sender") == sender and event.get("origin_server_ts", 0) >= since_ms
        ]

    async def login(self) -> EncryptedUser:
        answer = await self.client.login(self._account.password, device_name=self._device_name)
        if not isinstance(answer, LoginResponse):
            raise AssertionError(f"login failed: {answer}")
        await self.client.keys_upload()
        return self

    @property
    def device_id(self) -> str:
        return self.client.device_id or ""

    async def _sync(self, timeout_ms: int) -> None:
        response = await self.client.sync(timeout=timeout_ms, since=self._since, full_state=self._since is None)
        if not isinstance(response, SyncResponse):
            raise AssertionError(f"user sync failed: {response}")
        self._since = response.next_batch
        for room_id, info in response.rooms.join.items():
            for event in info.timeline.events:
                if isinstance(event, MegolmEvent):
                    self.undecryptable.append(event.source)
                    continue
                if getattr(event, "decrypted", False):
                    self.decrypted.add(str(event.source.get("event_id")))
                self.events.append((room_id, event.source))
        await self._upkeep()

    async def _upkeep(self) -> None:
        client = self.client
        if client.outgoing_to_device_messages:
            await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())

    async def _until_room_known(self, room_id: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while room_id not in self.client.rooms:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.user_id} never saw room {room_id}")
            await self._sync(500)

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        await self._until_room_known(room_id)
        response = await self.client.room_send(room_id, event_type, content, ignore_unverified_devices=True)
        event_id = getattr(response, "event_id", None)
        if not isinstance(event_id, str):
            raise AssertionError(f"room_send failed: {response}")
        return event_id

    async def _upload(self, filename: str, data: bytes, mime: str) -> dict[str, Any]:
        """Encrypted rooms carry the file's key in the event (``file``); the server only sees ciphertext."""
        ciphertext, keys = encrypt_attachment(data)
        url = await self._upload_bytes(filename, ciphertext, "application/octet-stream")
        return {"file": {"url": url, **keys}}

    async def download_encrypted(self, file: dict[str, Any]) -> bytes:
        answer = await self.client.download(mxc=file["url"])
        if not isinstance(answer, DownloadResponse):
            raise AssertionError(f"download failed: {answer}")
        return decrypt_attachment(answer.body, file["key"]["k"], file["hashes"]["sha256"], file["iv"])

    async def wait_until_bot_device_known(self, bot_id: str, device_id: str) -> None:
        """Sync until this client has the bot's (new) device, as a real client learns it from device lists."""
        deadline = time.monotonic() + WAIT_S
        while device_id not in {d.id for d in self.client.device_store.active_user_devices(bot_id)}:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.user_id} never learned device {device_id} of {bot_id}")
            self.client.olm.users_for_key_query.add(bot_id)
            await self._sync(500)
            await asyncio.sleep(0)
