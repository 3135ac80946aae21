"""A second matrix-nio client that plays the human: creates rooms, types commands, uploads files and waits
for the bot's answers by syncing until they arrive (never by sleeping)."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    RoomCreateResponse,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
)

from tests.matrix.synapse import MatrixUser

WAIT_S = 30.0
Event = dict[str, Any]


# A 429 fails the test at once: nio would otherwise sleep it out in silence, and a homeserver limit left at
# its default turned into minutes of waiting (max_limit_exceeded=0 hands the error back instead).
CLIENT_CONFIG = AsyncClientConfig(max_timeouts=0, max_limit_exceeded=0)


class UserClient:
    def __init__(self, homeserver: str, account: MatrixUser) -> None:
        self.user_id = account.user_id
        self.client = AsyncClient(homeserver, account.user_id, config=CLIENT_CONFIG)
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self.events: list[tuple[str, Event]] = []  # (room id, raw event) in arrival order
        self._since: str | None = None

    async def close(self) -> None:
        await self.client.close()

    async def catch_up(self) -> None:
        """Skip everything that happened before (earlier tests share these accounts)."""
        await self._sync(0)
        self.events.clear()

    async def _sync(self, timeout_ms: int) -> None:
        response = await self.client.sync(timeout=timeout_ms, since=self._since)
        if not isinstance(response, SyncResponse):
            raise AssertionError(f"user sync failed: {response}")
        self._since = response.next_batch
        for room_id, info in response.rooms.join.items():
            self.events.extend((room_id, event.source) for event in info.timeline.events)
        for room_id, info in response.rooms.leave.items():
            self.events.extend((room_id, event.source) for event in info.timeline.events)

    async def wait_for(self, predicate: Callable[[str, Event], bool], what: str, limit_s: float = WAIT_S) -> Event:
        """Sync until an event (seen now or before) matches; consume it so the next wait finds the next one."""
        deadline = time.monotonic() + limit_s
        while True:
            for index, (room_id, event) in enumerate(self.events):
                if predicate(room_id, event):
                    del self.events[: index + 1]
                    return event
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {limit_s:.0f}s waiting for {what}; saw {self.events[-5:]}")
            try:
                await self._sync(1000)
            except (OSError, TimeoutError) as exc:  # homeserver restarting
                self.last_error = exc
                await asyncio.sleep(0.2)

    async def wait_for_notice(self, room_id: str, sender: str, contains: str = "") -> Event:
        def match(rid: str, event: Event) -> bool:
            content = event.get("content") or {}
            return (
                rid == room_id
                and event.get("sender") == sender
                and content.get("msgtype") == "m.notice"
                and contains in str(content.get("body", ""))
            )

        return await self.wait_for(match, f"a notice from {sender} containing {contains!r} in {room_id}")

    async def wait_for_membership(self, room_id: str, user_id: str, membership: str) -> Event:
        def match(rid: str, event: Event) -> bool:
            return (
                rid == room_id
                and event.get("type") == "m.room.member"
                and event.get("state_key") == user_id
                and (event.get("content") or {}).get("membership") == membership
            )

        return await self.wait_for(match, f"{user_id} to {membership} {room_id}")

    async def notices_from(self, room_id: str, sender: str, settle_ms: int = 1500) -> list[str]:
        """The bot's notices in a room during a short quiet sync (used to prove something did NOT happen)."""
        await self._sync(settle_ms)
        return [
            str((event.get("content") or {}).get("body", ""))
            for rid, event in self.events
            if rid == room_id and event.get("sender") == sender and event.get("type") == "m.room.message"
        ]

    async def notice_events_from(self, room_id: str, sender: str, settle_ms: int = 1500) -> dict[str, str]:
        """Event id → body of the bot's notices in a room. A homeserver that restarted after a SIGKILL may
        hand a client an event again in a later sync; it is still one event, so it counts once here."""
        await self._sync(settle_ms)
        return {
            str(event.get("event_id")): str((event.get("content") or {}).get("body", ""))
            for rid, event in self.events
            if rid == room_id and event.get("sender") == sender and event.get("type") == "m.room.message"
        }

    async def create_room(
        self,
        invite: list[str],
        *,
        direct: bool = False,
        name: str | None = None,
        power_levels: dict[str, int] | None = None,
        encrypted: bool = False,
    ) -> str:
        initial_state: list[dict[str, Any]] = []
        if encrypted:
            initial_state.append(
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            )
        override = {"users": {self.user_id: 100, **(power_levels or {})}} if power_levels else None
        response = await self.client.room_create(
            name=name,
            is_direct=direct,
            invite=invite,
            initial_state=initial_state,
            power_level_override=override,
        )
        if not isinstance(response, RoomCreateResponse):
            raise AssertionError(f"room_create failed: {response}")
        return response.room_id

    async def join(self, room_id: str) -> None:
        response = await self.client.join(room_id)
        if isinstance(response, ErrorResponse):
            raise AssertionError(f"join failed: {response}")

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        deadline = time.monotonic() + WAIT_S
        while True:  # the homeserver may still be coming back from a restart
            try:
                response = await self.client.room_send(room_id, event_type, content)
            except (OSError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
                continue
            if not isinstance(response, RoomSendResponse):
                raise AssertionError(f"room_send failed: {response}")
            return response.event_id

    async def say(self, room_id: str, text: str, *, reply_to: str | None = None) -> str:
        content: dict[str, Any] = {"msgtype": "m.text", "body": text}
        if reply_to:
            content["body"] = f"> <{self.user_id}> sent a file.\n\n{text}"
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        return await self.send_event(room_id, "m.room.message", content)

    async def send_file(self, room_id: str, filename: str, data: bytes, mime: str = "text/plain") -> str:
        content = {
            "msgtype": "m.file",
            "body": filename,
            "filename": filename,
            **await self._upload(filename, data, mime),
            "info": {"size": len(data), "mimetype": mime},
        }
        return await self.send_event(room_id, "m.room.message", content)

    async def _upload(self, filename: str, data: bytes, mime: str) -> dict[str, Any]:
        """The upload, and the part of an ``m.file`` event that points at it (in the clear: ``url``)."""
        return {"url": await self._upload_bytes(filename, data, mime)}

    async def _upload_bytes(self, filename: str, data: bytes, mime: str) -> str:
        upload, _ = await self.client.upload(io.BytesIO(data), content_type=mime, filename=filename, filesize=len(data))
        if not isinstance(upload, UploadResponse):
            raise AssertionError(f"upload failed: {upload}")
        return upload.content_uri
