"""A chat's life cycle outside its own commands: blocked/kicked, migrated to a new id, back again.

Transports (membership events), the delivery service (send errors) and the dispatcher (a deactivated chat
writes again) all come here, so the database, the matching index and the digest schedule stay in step.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.core.messaging import split_thread
from bot.core.models import Chat, ChatKey
from bot.services.pipeline import MatchPipeline
from bot.services.planning import DigestPlanner
from bot.storage.store import Storage

log = logging.getLogger(__name__)

PausedCallback = Callable[[Chat], Awaitable[None]]


class ChatLifecycle:
    def __init__(
        self,
        storage: Storage,
        pipeline: MatchPipeline,
        planner: DigestPlanner,
        on_paused: PausedCallback | None = None,
    ) -> None:
        """``on_paused`` hears of every chat that was just deactivated (tells a channel's managers)."""
        self._storage = storage
        self._pipeline = pipeline
        self._planner = planner
        self._on_paused = on_paused

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
        """Blocked, kicked or left (or a forum topic closed, a channel's posting right lost): deactivate, so
        it is not retried forever; the rows stay for a comeback. A group that is gone takes its forum topics
        with it; a topic that is gone leaves the rest of its group alone."""
        await self._pause(await self._storage.chats.get_by_key(key), detail)
        if split_thread(key.chat_id)[1] is None:
            topics = await self._storage.chats.get_many(await self._storage.channels.topic_ids(key))
            for topic in topics.values():
                await self._pause(topic, detail)

    async def resume(self, key: ChatKey) -> None:
        """Someone wrote again where the bot had paused (a reopened forum topic, a channel whose posting
        right came back): its subscriptions match again. Unknown and active chats are left alone."""
        chat = await self._storage.chats.get_by_key(key)
        if chat is None or chat.active:
            return
        log.info("chat %s/%s is back: reactivated", key.platform, key.chat_id)
        await self._storage.chats.set_active(chat.id, True)
        revived = await self._storage.chats.get(chat.id)
        if revived is not None:
            await self.restore(revived)

    async def _pause(self, chat: Chat | None, detail: str) -> None:
        if chat is None or not chat.active:
            return  # already paused: its managers were told then, not again
        suffix = f" ({detail})" if detail else ""
        log.info("chat %s/%s is gone%s: deactivated", chat.platform, chat.chat_id, suffix)
        await self._storage.chats.set_active(chat.id, False)
        await self._storage.outbox.drop_chat(chat.id)
        self._pipeline.remove_chat(chat.id)
        await self._replan(chat.id)
        if self._on_paused is not None:
            try:
                await self._on_paused(chat)
            except Exception:  # a notice must never undo or block the pause
                log.exception("could not report that chat %s/%s paused", chat.platform, chat.chat_id)

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
