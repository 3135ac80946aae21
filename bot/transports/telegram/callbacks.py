"""Signed button data: what a Telegram inline button runs, bound to its chat and its age."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from datetime import timedelta

from bot.transports.base import TransportHost

MAX_CALLBACK_BYTES = 64
BUTTON_MAX_AGE = timedelta(days=30)
SECRET_STATE_KEY = "telegram.callback_secret"
_BUTTON_STATE_PREFIX = "telegram.button."


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if number == 0:
            return text


class CallbackCodec:
    """Button data ``kind.minute.signature.payload`` signed with a per-installation secret.

    The HMAC binds the command to the chat and the minute it was issued, so forged data, data copied into
    another chat and buttons older than :data:`BUTTON_MAX_AGE` are refused. Commands too long for Telegram's
    64-byte limit are kept in the host's durable state and referenced by their digest (kind ``k``)."""

    def __init__(
        self,
        host: TransportHost,
        *,
        clock: Callable[[], float] = time.time,
        max_age: timedelta = BUTTON_MAX_AGE,
    ) -> None:
        self._host = host
        self._clock = clock
        self._max_age_minutes = int(max_age.total_seconds() // 60)
        self._secret: bytes | None = None
        self._lock = asyncio.Lock()

    async def load(self) -> None:
        """Read (or create once) the signing secret."""
        await self._key()

    async def encode(self, chat_id: str, command: str) -> str:
        minute = self._minute()
        inline = await self._pack("c", chat_id, minute, command)
        if len(inline.encode("utf-8")) <= MAX_CALLBACK_BYTES:
            return inline
        digest = _b64(hashlib.sha256(command.encode("utf-8")).digest()[:12])
        await self._host.set_state(_BUTTON_STATE_PREFIX + digest, command)
        return await self._pack("k", chat_id, minute, digest)

    async def decode(self, chat_id: str, data: str) -> str | None:
        """The command a button runs, or ``None`` for forged, foreign or expired data."""
        parts = data.split(".", 3)
        if len(parts) != 4 or parts[0] not in ("c", "k"):
            return None
        kind, minute_text, signature, payload = parts
        try:
            minute = int(minute_text, 36)
        except ValueError:
            return None
        expected = await self._signature(kind, chat_id, minute, payload)
        if not hmac.compare_digest(expected, signature):
            return None
        age = self._minute() - minute
        if age > self._max_age_minutes or age < -5:  # a little slack for clock steps
            return None
        if kind == "k":
            return await self._host.get_state(_BUTTON_STATE_PREFIX + payload)
        return payload

    def _minute(self) -> int:
        return int(self._clock() // 60)

    async def _pack(self, kind: str, chat_id: str, minute: int, payload: str) -> str:
        signature = await self._signature(kind, chat_id, minute, payload)
        return f"{kind}.{_base36(minute)}.{signature}.{payload}"

    async def _signature(self, kind: str, chat_id: str, minute: int, payload: str) -> str:
        message = f"{kind}\n{chat_id}\n{minute}\n{payload}".encode()
        # hmac.digest: the one-shot C implementation (every alert button of every chat is signed).
        return _b64(hmac.digest(await self._key(), message, "sha256")[:9])

    async def _key(self) -> bytes:
        if self._secret is None:
            async with self._lock:
                if self._secret is None:
                    stored = await self._host.get_state(SECRET_STATE_KEY)
                    if stored is None:
                        stored = secrets.token_urlsafe(32)
                        await self._host.set_state(SECRET_STATE_KEY, stored)
                    self._secret = stored.encode("ascii")
        return self._secret
