"""Channels named in a private chat (``/subscribe @putinwatch Putin``): finding the name in a command's
arguments, and asking Telegram, at every such command, whether the sender administers the channel and the
bot may post in it."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import partial

from telegram import Bot, ChatMember, ChatMemberAdministrator
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.core.messaging import (
    TARGET_BOT_CANNOT_POST,
    TARGET_NOT_ADMIN,
    TARGET_NOT_CHANNEL,
    TARGET_NOT_FOUND,
    TARGET_UNAVAILABLE,
    ChatTarget,
    TargetCheck,
)
from bot.transports.telegram.sending import chat_ref

log = logging.getLogger(__name__)

# A public username (5–32 characters) or a numeric id of a channel or supergroup ("-100…").
_TARGET = re.compile(r"(@[A-Za-z][A-Za-z0-9_]{3,31}|-100\d{5,})(?:\s+(.*))?", re.DOTALL)
_ADMIN_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})


def split_target(args: str) -> tuple[str, str] | None:
    """``("@putinwatch", "Putin")`` from ``"@putinwatch Putin"``; ``None`` when no chat is named first."""
    match = _TARGET.fullmatch(args.strip())
    if match is None:
        return None
    return match.group(1), (match.group(2) or "").strip()


def bot_can_post(member: ChatMember) -> bool:
    """A channel's owner or an administrator with the right to post messages."""
    if member.status == ChatMemberStatus.OWNER:
        return True
    return isinstance(member, ChatMemberAdministrator) and bool(member.can_post_messages)


class ChannelChecker:
    """Builds the :class:`ChatTarget` of a command; its check asks Telegram only when the command takes one."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    def target(self, args: str, user_id: int) -> ChatTarget | None:
        found = split_target(args)
        if found is None:
            return None
        ref, rest = found
        return ChatTarget(ref=ref, args=rest, check=partial(self.check, ref, user_id))

    async def check(self, ref: str, user_id: int) -> TargetCheck:
        try:
            chat = await self._bot.get_chat(chat_ref(ref))
        except (BadRequest, Forbidden) as exc:
            log.info("Telegram chat %s not found for user %s: %s", ref, user_id, exc.message)
            return TargetCheck(ref, ref, TARGET_NOT_FOUND)
        except TelegramError as exc:
            log.warning("Could not look up Telegram chat %s: %s", ref, exc.message)
            return TargetCheck(ref, ref, TARGET_UNAVAILABLE)
        name = f"@{chat.username}" if chat.username else (chat.title or ref)
        chat_id = str(chat.id)
        if chat.type != ChatType.CHANNEL:
            return TargetCheck(chat_id, name, TARGET_NOT_CHANNEL)
        # The bot first: without administrator rights it may not even read the channel's members.
        refusal = await self._member_refusal(chat.id, self._bot.id, TARGET_BOT_CANNOT_POST, bot_can_post)
        if refusal is None:
            refusal = await self._member_refusal(
                chat.id, user_id, TARGET_NOT_ADMIN, lambda member: member.status in _ADMIN_STATUSES
            )
        return TargetCheck(chat_id, name, refusal)

    async def _member_refusal(
        self, chat_id: int, user_id: int, refusal: str, allowed: Callable[[ChatMember], bool]
    ) -> str | None:
        try:
            member = await self._bot.get_chat_member(chat_id, user_id)
        except (BadRequest, Forbidden) as exc:
            log.info("Telegram refused the member %s of channel %s: %s", user_id, chat_id, exc.message)
            return refusal
        except TelegramError as exc:
            log.warning("Could not check member %s of Telegram channel %s: %s", user_id, chat_id, exc.message)
            return TARGET_UNAVAILABLE
        return None if allowed(member) else refusal
