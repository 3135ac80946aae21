"""A chat's own settings — delivery mode, time zone, quiet hours, language — and what follows a change.

Storing a setting is not enough: a new mode or time zone replans the digest, and leaving a digest mode or
quiet hours lets held alerts go out now. Handlers call this instead of doing those steps themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time

from bot.core.i18n import LANGUAGES
from bot.core.models import Chat, Mode
from bot.services.planning import DigestPlanner
from bot.storage.store import Storage


class ChatSettingsService:
    def __init__(self, storage: Storage, planner: DigestPlanner, wake_delivery: Callable[[], None]) -> None:
        self._storage = storage
        self._planner = planner
        self._wake_delivery = wake_delivery

    async def set_mode(self, chat: Chat, mode: Mode, digest_time: time | None, now: datetime) -> Chat:
        """``digest_time`` only for daily digests (None keeps the chat's time)."""
        fields: dict[str, object] = {"mode": mode}
        if digest_time is not None:
            fields["digest_time"] = digest_time.strftime("%H:%M")
        updated = await self._storage.chats.update(chat.id, **fields)
        if updated.mode is not Mode.INSTANT and chat.mode is Mode.INSTANT:
            # Digests count from now: nothing "came due while stopped" before the chat chose them.
            await self._storage.chats.set_last_digest(updated.id, now)
        await self._planner.plan_chat(updated)
        if updated.mode is Mode.INSTANT:
            self._wake_delivery()  # anything held for a digest goes out now
        return updated

    async def set_timezone(self, chat: Chat, name: str) -> Chat:
        """``name`` is a validated IANA zone name."""
        updated = await self._storage.chats.update(chat.id, timezone=name)
        await self._planner.plan_chat(updated)
        return updated

    async def set_quiet(self, chat: Chat, window: tuple[time, time] | None) -> Chat:
        """Quiet hours from ``window`` (start, end), or off for None; held alerts are looked at again."""
        if window is None:
            updated = await self._storage.chats.update(chat.id, quiet_start=None, quiet_end=None)
        else:
            start, end = (moment.strftime("%H:%M") for moment in window)
            updated = await self._storage.chats.update(chat.id, quiet_start=start, quiet_end=end)
        self._wake_delivery()
        return updated

    async def set_lang(self, chat: Chat, lang: str) -> Chat:
        if lang not in LANGUAGES:
            raise ValueError(f"unsupported language {lang!r}")
        return await self._storage.chats.update(chat.id, lang=lang)
