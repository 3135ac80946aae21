"""A chat's life cycle outside its own commands: blocked/kicked, migrated to a new id, back again.

Transports (membership events), the delivery service (send errors) and the dispatcher (a deactivated chat
writes again) all come here, so the database, the matching index and the digest schedule stay in step.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.core.models import Chat, ChatKey
from bot.services.pipeline import MatchPipeline
from bot.services.planning import DigestPlanner
from bot.storage.store import Storage

log = logging.getLogger(__name__)


class ChatLifecycle:
    def __init__(self, storage: Storage, pipeline: MatchPipeline, planner: DigestPlanner) -> None:
        self._storage = storage
        self._pipeline = pipeline
        self._planner = planner

    async def find(self, key: ChatKey) -> Chat | None:
        """The chat if it is known; never creates one (a refused command stores nothing)."""
        return await self._storage.chats.get_by_key(key)

    async def open(self, key: ChatKey, now: datetime, *, lang: str, is_group: bool, title: str | None) -> Chat:
        """The chat a command came from, created on first contact (``lang`` is the user's language hint)."""
        before = await self._storage.chats.get_by_key(key)
        chat, _ = await self._storage.chats.get_or_create(key, now, lang=lang, is_group=is_group, title=title)
        if before is not None and not before.active:
            # The user came back after blocking the bot: its subscriptions match again.
            await self.restore(chat)
        return chat

    async def gone(self, key: ChatKey, detail: str = "") -> None:
        """Blocked, kicked or left: deactivate (not retried forever); the rows stay for a comeback."""
        chat = await self._storage.chats.get_by_key(key)
        if chat is None or not chat.active:
            return
        log.info("chat %s/%s is gone%s: deactivated", key.platform, key.chat_id, f" ({detail})" if detail else "")
        await self._storage.chats.set_active(chat.id, False)
        await self._storage.outbox.drop_chat(chat.id)
        self._pipeline.remove_chat(chat.id)
        await self._replan(chat.id)

    async def moved(self, key: ChatKey, new_chat_id: str) -> None:
        """A Telegram group became a supergroup: same chat, new id; subscriptions and unsent alerts follow."""
        result = await self._storage.chats.move(key, new_chat_id)
        if result is None:
            return
        chat, merged_from = result
        log.info("chat %s/%s is now %s; subscriptions kept", key.platform, key.chat_id, new_chat_id)
        if merged_from is not None:
            self._pipeline.remove_chat(merged_from)
        await self.restore(chat)

    async def restore(self, chat: Chat) -> None:
        """Put a (re)activated chat's subscriptions back into the matching index and plan its digests."""
        for sub in await self._storage.subscriptions.for_chat(chat.id):
            self._pipeline.add(sub)
        await self._replan(chat.id)

    async def _replan(self, chat_id: int) -> None:
        chat = await self._storage.chats.get(chat_id)
        if chat is not None:
            await self._planner.plan_chat(chat)
