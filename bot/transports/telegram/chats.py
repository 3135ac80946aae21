"""Who is writing where: a Telegram chat and sender as a neutral :class:`IncomingCommand`, with the sender's
rights asked of Telegram only when the command needs them."""

from __future__ import annotations

import logging

from telegram import Bot, Chat, User
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from bot.core.messaging import Attachment, IncomingCommand
from bot.transports.base import TransportHost
from bot.transports.telegram.sending import PLATFORM
from config.settings import TelegramSettings

log = logging.getLogger(__name__)

_ADMIN_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})
GONE_STATUSES = frozenset({ChatMemberStatus.LEFT, ChatMemberStatus.BANNED})


def language_of(code: str | None) -> str | None:
    """``de-AT`` → ``de``: the language part of a Telegram user's ``language_code``."""
    return code.split("-")[0].lower() if code else None


class ChatRights:
    """Builds commands for the host, deciding ``can_manage_chat`` and ``is_bot_admin``."""

    def __init__(self, settings: TelegramSettings, host: TransportHost, bot: Bot) -> None:
        self._admin_ids = frozenset(settings.admin_ids)
        self._host = host
        self._bot = bot

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
    ) -> IncomingCommand:
        is_bot_admin = user.id in self._admin_ids
        return IncomingCommand(
            platform=PLATFORM,
            chat_id=str(chat.id),
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
