"""Rooms: which invites to accept, and who may change a room's settings (power levels, room creators)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from nio import (
    AsyncClient,
    ErrorResponse,
    InviteMemberEvent,
    JoinedMembersResponse,
    RoomGetStateEventResponse,
)

from config.settings import MatrixSettings

log = logging.getLogger(__name__)

MANAGER_POWER_LEVEL = 50
# Legacy rooms (versions 1–11) give their creator no special rights; from version 12 on, creators outrank
# every power level and are not listed in the power-levels event at all.
_LEGACY_ROOM_VERSIONS = frozenset(str(v) for v in range(1, 12))


def inviter_allowed(inviter: str, allowed: Iterable[str]) -> bool:
    """Empty list: anyone. Otherwise an exact user id (``@a:b``) or a server (``:b`` or ``b``)."""
    entries = [entry.strip() for entry in allowed if entry.strip()]
    if not entries:
        return True
    for entry in entries:
        if entry.startswith("@"):
            if inviter == entry:
                return True
        elif inviter.endswith(":" + entry.lstrip(":")):
            return True
    return False


def power_level_of(content: dict[str, Any], user_id: str) -> int:
    users = content.get("users") or {}
    level = users.get(user_id, content.get("users_default", 0))
    try:
        return int(level)
    except (TypeError, ValueError):
        return 0


class Invites:
    """Joins the rooms the bot is invited to, if the settings allow the inviter."""

    def __init__(self, client: AsyncClient, settings: MatrixSettings, user_id: str) -> None:
        self._client = client
        self._settings = settings
        self._user_id = user_id
        self.declined: set[str] = set()  # rooms left on purpose: their "leave" is not a lost chat

    async def on_invite(self, room_id: str, invite_state: list[Any]) -> None:
        inviter = self._inviter(invite_state)
        if not self._settings.auto_join:
            log.info("matrix: invite to %s from %s left pending (auto-join is off)", room_id, inviter)
            return
        if inviter is None or not inviter_allowed(inviter, self._settings.allowed_inviters):
            log.info("matrix: declining invite to %s from %s (not an allowed inviter)", room_id, inviter)
            self.declined.add(room_id)
            await self._client.room_leave(room_id)
            return
        answer = await self._client.join(room_id)
        if isinstance(answer, ErrorResponse):
            log.warning("matrix: could not join %s: %s", room_id, answer)
        else:
            log.info("matrix: joined %s on the invite of %s", room_id, inviter)

    def _inviter(self, invite_state: list[Any]) -> str | None:
        for event in invite_state:
            # nio moves the content of stripped invite events into attributes, so read those
            if (
                isinstance(event, InviteMemberEvent)
                and event.state_key == self._user_id
                and event.membership == "invite"
            ):
                return event.sender
        return None


class RoomRights:
    """Answers "is this a group?" and "may this member manage the room?" from the homeserver."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def is_group(self, room_id: str) -> bool:
        room = self._client.rooms.get(room_id)
        return (room.joined_count if room is not None else await self._count_members(room_id)) > 2

    async def _count_members(self, room_id: str) -> int:
        """Members of a room nio has no state for; unknown counts as a group, where rights are checked."""
        answer = await self._client.joined_members(room_id)
        return len(answer.members) if isinstance(answer, JoinedMembersResponse) else 3

    async def is_room_manager(self, room_id: str, user_id: str) -> bool:
        """Power level ≥ 50, read fresh from the homeserver; unknown means no (fail closed)."""
        levels = await self._client.room_get_state_event(room_id, "m.room.power_levels")
        if isinstance(levels, RoomGetStateEventResponse):
            if power_level_of(levels.content, user_id) >= MANAGER_POWER_LEVEL:
                return True
        else:
            log.warning("matrix: could not read power levels of %s: %s", room_id, levels)
        return await self._is_room_creator(room_id, user_id)

    async def _is_room_creator(self, room_id: str, user_id: str) -> bool:
        # The event's sender is the creator, so ask for the whole event, not only its content.
        path = f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/state/m.room.create/?format=event"
        event = await get_json(self._client, path)
        if not event:
            return False
        content = event.get("content") or {}
        if str(content.get("room_version", "1")) in _LEGACY_ROOM_VERSIONS:
            return False
        creators = {event.get("sender"), *(content.get("additional_creators") or [])}
        return user_id in creators


async def get_json(client: AsyncClient, path: str) -> dict[str, Any] | None:
    """GET a client-API path nio has no method for; None (and a log line) unless it answers 200."""
    return await _request_json(client, "GET", path, None)


async def post_json(client: AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """POST to a client-API path nio has no method for; None (and a log line) unless it answers 200."""
    return await _request_json(client, "POST", path, json.dumps(body))


async def _request_json(client: AsyncClient, method: str, path: str, data: str | None) -> dict[str, Any] | None:
    headers = {"Authorization": f"Bearer {client.access_token}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    response = await client.send(method, path, data, headers=headers)
    try:
        if response.status != 200:
            log.warning("matrix: %s %s answered HTTP %s", method, path.split("?")[0], response.status)
            return None
        body = await response.json()
    finally:
        response.release()
    return body if isinstance(body, dict) else None
