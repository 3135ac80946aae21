"""Telegram channels managed from a private chat, and telling their managers when a channel pauses.

A channel is a chat like any other (its own subscriptions and settings, alerts posted in it); what it
adds is who manages it: a user who named it in a private chat (``/subscribe @putinwatch Putin``) after the
transport confirmed they administer it and the bot can post there.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime

from bot.core.i18n import Translator, supported
from bot.core.messaging import Messenger, OutgoingMessage, TargetCheck
from bot.core.models import Chat, ChatKey
from bot.services.chats import ChatLifecycle
from bot.storage.channels import ChannelCounts
from bot.storage.store import Storage

log = logging.getLogger(__name__)


class ChannelService:
    def __init__(self, storage: Storage, chats: ChatLifecycle) -> None:
        self._storage = storage
        self._chats = chats

    async def open(self, platform: str, check: TargetCheck, manager_id: str, lang: str, now: datetime) -> Chat:
        """The checked channel's chat (created, or resumed if it was paused) with ``manager_id`` recorded as
        one of its managers. Only call this after ``check`` passed: a refused command stores nothing."""
        if check.refusal is not None:
            raise ValueError(f"channel {check.name} was refused: {check.refusal}")
        key = ChatKey(platform, check.chat_id)
        chat = await self._chats.open(key, now, lang=lang, is_group=True, title=check.name)
        if chat.title != check.name:  # renamed (or a new @username) since it was first managed
            chat = await self._storage.chats.update(chat.id, title=check.name)
        await self._storage.channels.add_manager(chat.id, manager_id, lang, now)
        return chat

    async def managed_by(self, platform: str, user_id: str) -> list[Chat]:
        """The channels ``user_id`` manages through the bot, paused ones included."""
        ids = await self._storage.channels.managed_by(platform, user_id)
        chats = await self._storage.chats.get_many(ids)
        return [chats[i] for i in ids if i in chats]

    async def counts(self) -> ChannelCounts:
        return await self._storage.channels.counts()


def channel_ref(chat: Chat) -> str:
    """How a user names the channel in a command: its @username if it has one, else its numeric id."""
    return chat.title if chat.title and chat.title.startswith("@") else chat.chat_id


class ChannelNotices:
    """Tells a paused channel's managers, in their private chats. Transports register their messenger; a
    manager who cannot be reached is logged, never raised (pausing must not fail over a notice)."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._messengers: dict[str, Messenger] = {}

    def register(self, messenger: Messenger) -> None:
        self._messengers[messenger.platform] = messenger

    async def paused(self, chat: Chat) -> None:
        messenger = self._messengers.get(chat.platform)
        managers = await self._storage.channels.managers(chat.id)
        if messenger is None or not managers:
            return
        name = html.escape(chat.title or chat.chat_id)
        ref = html.escape(channel_ref(chat))
        for manager in managers:
            t = Translator(supported(manager.lang), messenger.command_prefix)
            text = t(
                "Alerts for {channel} are paused: I was removed from the channel or can no longer post there. "
                "Its subscriptions are kept. Make me an administrator with the right to post messages, then send "
                "{p}list {ref} to resume.",
                channel=f"<b>{name}</b>",
                ref=ref,
            )
            try:
                # On Telegram a user's private chat with the bot has the user's id.
                await messenger.send(manager.user_id, OutgoingMessage(text))
            except Exception as exc:
                log.warning("could not tell manager %s that %s paused: %s", manager.user_id, chat.chat_id, exc)
