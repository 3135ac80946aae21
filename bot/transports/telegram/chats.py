"""Who is writing where: a Telegram chat and sender as a neutral :class:`IncomingCommand`, with the sender's
rights asked of Telegram only when the command needs them."""

from __future__ import annotations

import logging

from telegram import Bot, Chat, Message, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from bot.core.messaging import Attachment, IncomingCommand, thread_chat_id
from bot.transports.base import TransportHost
from bot.transports.telegram.channels import ChannelChecker
from bot.transports.telegram.sending import PLATFORM
from config.settings import TelegramSettings

log = logging.getLogger(__name__)

_ADMIN_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})
GONE_STATUSES = frozenset({ChatMemberStatus.LEFT, ChatMemberStatus.BANNED})


def language_of(code: str | None) -> str | None:
    """``de-AT`` → ``de``: the language part of a Telegram user's ``language_code``."""
    return code.split("-")[0].lower() if code else None


def topic_of(message: Message | None) -> str | None:
    """The forum topic a message was written in, as a thread id; ``None`` in General and outside forums
    (a reply thread in an ordinary group also has a ``message_thread_id``, but it is no topic)."""
    if message is None or not message.is_topic_message or message.message_thread_id is None:
        return None
    return str(message.message_thread_id)


def chat_key_id(chat: Chat, thread_id: str | None) -> str:
    """The neutral chat id: the chat's, or ``"<group>/<thread>"`` for a forum topic (a subscriber of its own)."""
    return thread_chat_id(str(chat.id), thread_id) if thread_id else str(chat.id)


class ChatRights:
    """Builds commands for the host, deciding ``can_manage_chat`` and ``is_bot_admin``."""

    def __init__(self, settings: TelegramSettings, host: TransportHost, bot: Bot) -> None:
        self._admin_ids = frozenset(settings.admin_ids)
        self._host = host
        self._bot = bot
        self._channels = ChannelChecker(bot)

    async def command(
        self,
        chat: Chat,
        user: User,
        name: str,
        args: str,
        *,
        attachment: Attachment | None = None,
        callback: bool = False,
        anonymous_admin: bool = False,
        thread_id: str | None = None,
    ) -> IncomingCommand:
        """``thread_id``: the forum topic the command was written in (see :func:`topic_of`)."""
        is_bot_admin = user.id in self._admin_ids
        private = chat.type == ChatType.PRIVATE
        return IncomingCommand(
            platform=PLATFORM,
            chat_id=chat_key_id(chat, thread_id),
            user_id=str(user.id),
            name=name,
            args=args,
            is_group=chat.type in (ChatType.GROUP, ChatType.SUPERGROUP),
            is_bot_admin=is_bot_admin,
            can_manage_chat=await self._can_manage_chat(chat, user, name, is_bot_admin, anonymous_admin),
            lang_hint=language_of(user.language_code),
            attachment=attachment,
            chat_title=chat.effective_name,
            callback=callback,
            thread_id=thread_id,
            # Only a private chat names another chat: in a group "@name" is just part of the arguments.
            target=self._channels.target(args, user.id) if private else None,
        )

    async def _can_manage_chat(
        self, chat: Chat, user: User, name: str, is_bot_admin: bool, anonymous_admin: bool
    ) -> bool:
        """True in private chats; in groups only asked of Telegram for commands that change the chat, and
        otherwise False (nobody's rights were checked)."""
        if chat.type == ChatType.PRIVATE or anonymous_admin:
            return True
        if not self._host.requires_chat_admin(name):
            return False
        if is_bot_admin:
            return True
        try:
            member = await self._bot.get_chat_member(chat.id, user.id)
        except TelegramError as exc:
            log.warning("Could not check %s's rights in Telegram chat %s: %s", user.id, chat.id, exc.message)
            return False
        return member.status in _ADMIN_STATUSES
