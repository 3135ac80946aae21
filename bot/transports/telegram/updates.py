"""Receiving from Telegram: updates become :class:`IncomingCommand`s for the host, whose replies go back
through the shared :class:`~bot.transports.retry.ReplySender`.

Updates of different chats are handled concurrently, those of one chat in order (see :class:`ChatLocks`)."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial

from telegram import Bot, CallbackQuery, ChatMemberUpdated, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.core.i18n import translator
from bot.core.messaging import Attachment, IncomingCommand, Messenger, OutgoingMessage, Reply, SendError
from bot.core.models import ChatKey
from bot.transports.base import TransportHost
from bot.transports.retry import ReplySender
from bot.transports.telegram.callbacks import CallbackCodec
from bot.transports.telegram.channels import bot_can_post
from bot.transports.telegram.chats import GONE_STATUSES, ChatRights, chat_key_id, language_of, topic_of
from bot.transports.telegram.sending import PLATFORM, split_parts

log = logging.getLogger(__name__)

ALLOWED_UPDATES = (Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER)
COMMAND_RE = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+(.*))?", re.DOTALL)


def parse_command(text: str, bot_username: str | None) -> tuple[str, str] | None:
    """``(name, args)`` of ``/cmd args`` or ``/cmd@thisbot args``; ``None`` for plain text and for commands
    addressed to another bot."""
    match = COMMAND_RE.fullmatch(text.strip())
    if match is None:
        return None
    name, target, args = match.groups()
    if target is not None and (bot_username is None or target.lower() != bot_username.lower()):
        return None
    return name.lower(), (args or "").strip()


class ChatLocks:
    """One lock per chat, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self.locks: dict[str, asyncio.Lock] = {}
        self._users: Counter[str] = Counter()

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self.locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if self._users[key] <= 0:
                del self._users[key]
                self.locks.pop(key, None)


@dataclass(eq=False, kw_only=True)
class UpdateHandler:
    """What the PTB application calls for every update it receives."""

    bot: Bot
    host: TransportHost
    codec: CallbackCodec
    rights: ChatRights
    messenger: Messenger
    replies: ReplySender
    max_upload_bytes: int
    locks: ChatLocks = field(default_factory=ChatLocks)

    @property
    def bot_username(self) -> str | None:
        try:
            return self.bot.username
        except RuntimeError:  # not initialized yet: no getMe answer
            return None

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        user = update.effective_user
        lang = language_of(user.language_code) if user else None
        async with self.locks.hold(str(chat.id) if chat else ""):
            try:
                if update.my_chat_member is not None:
                    await self._on_membership(update.my_chat_member)
                elif update.callback_query is not None:
                    await self._on_callback(update.callback_query, lang)
                elif update.message is not None:
                    await self._on_message(update.message)
            except Exception:
                log.exception("Telegram update %s could not be handled", update.update_id)
                if chat is not None:
                    await self._apologize(str(chat.id), lang)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("Unhandled error in the Telegram application", exc_info=context.error)

    def on_polling_error(self, exc: TelegramError) -> None:
        log.warning("Polling Telegram for updates failed (%s); retrying", exc.message)

    # ---------------------------------------------------------------- kinds of update

    async def _on_membership(self, change: ChatMemberUpdated) -> None:
        key = ChatKey(PLATFORM, str(change.chat.id))
        member = change.new_chat_member
        if member.status in GONE_STATUSES:
            log.info("Bot removed from or blocked in Telegram chat %s", change.chat.id)
            await self.host.chat_gone(key)
        elif change.chat.type == ChatType.CHANNEL:
            # In a channel the bot only works as an administrator allowed to post: losing that right
            # pauses the channel like a removal, getting it back resumes it.
            if bot_can_post(member):
                await self.host.chat_back(key)
            else:
                log.info("Bot may no longer post in Telegram channel %s", change.chat.id)
                await self.host.chat_gone(key)

    async def _on_message(self, message: Message) -> None:
        if message.migrate_to_chat_id is not None:
            log.info("Telegram group %s became supergroup %s", message.chat.id, message.migrate_to_chat_id)
            await self.host.chat_moved(ChatKey(PLATFORM, str(message.chat.id)), str(message.migrate_to_chat_id))
            return
        if message.chat.type == ChatType.CHANNEL:
            return  # a command posted in a channel would be read by every subscriber of it: ignored
        user = message.from_user
        thread_id = topic_of(message)
        parsed = parse_command(message.text or message.caption or "", self.bot_username)
        if thread_id is not None and user is not None and not user.is_bot and message.forum_topic_closed is None:
            # Someone writes in a forum topic that was closed (its alerts paused): it is open again.
            await self.host.chat_back(ChatKey(PLATFORM, chat_key_id(message.chat, thread_id)))
        if parsed is None or user is None:
            return
        # An anonymous group admin writes as the group itself; only admins can do that.
        anonymous_admin = message.sender_chat is not None and message.sender_chat.id == message.chat.id
        if user.is_bot and not anonymous_admin:
            return
        name, args = parsed
        command = await self.rights.command(
            message.chat,
            user,
            name,
            args,
            attachment=self._attachment(message),
            anonymous_admin=anonymous_admin,
            thread_id=thread_id,
        )
        await self._run(command)

    async def _on_callback(self, query: CallbackQuery, lang: str | None) -> None:
        chat = query.message.chat if query.message is not None else None
        # The button was signed for the chat id it was sent to: a topic's "<group>/<thread>".
        thread_id = topic_of(query.message) if isinstance(query.message, Message) else None
        chat_id = chat_key_id(chat, thread_id) if chat is not None else ""
        command_line = await self.codec.decode(chat_id, query.data or "") if chat is not None else None
        if chat is None or command_line is None:
            log.info("Refused button data %r from Telegram user %s", query.data, query.from_user.id)
            t = translator(lang)
            await self._answer(query, t("This button is no longer valid. Please run the command again."))
            return
        await self._answer(query, None)  # stops the button's spinner at once
        name, _, args = command_line.partition(" ")
        command = await self.rights.command(
            chat, query.from_user, name.lower(), args.strip(), callback=True, thread_id=thread_id
        )
        if chat.type == ChatType.CHANNEL:
            # A button under a channel post (a capped digest's "more"): what it fetches is posted by the
            # delivery; a reply would be a command echo every reader of the channel sees.
            await self.host.handle(command)
            return
        await self._run(command)

    async def _answer(self, query: CallbackQuery, text: str | None) -> None:
        try:
            await query.answer(text=text)
        except TelegramError as exc:
            log.info("Could not answer a Telegram button press: %s", exc.message)

    # ---------------------------------------------------------------- files

    def _attachment(self, message: Message) -> Attachment | None:
        """The document sent with the command (as its caption) or the one the command replies to."""
        document = message.document
        if document is None and message.reply_to_message is not None:
            document = message.reply_to_message.document
        if document is None:
            return None
        return Attachment(
            filename=document.file_name or "document",
            size=document.file_size,
            mime_type=document.mime_type,
            fetch=partial(self._download, document.file_id, document.file_size),
        )

    async def _download(self, file_id: str, declared_size: int | None) -> bytes:
        """Called by a handler only once it decided to read the file, so refused senders cause no download.
        Raises ``ValueError`` for files over the size limit and ``ConnectionError`` when Telegram fails."""
        limit = self.max_upload_bytes
        if declared_size is not None and declared_size > limit:
            raise ValueError(f"the file is larger than {limit} bytes")
        try:
            telegram_file = await self.bot.get_file(file_id)
            if telegram_file.file_size is not None and telegram_file.file_size > limit:
                raise ValueError(f"the file is larger than {limit} bytes")
            data = await telegram_file.download_as_bytearray()
        except TelegramError as exc:
            raise ConnectionError(f"could not download the file from Telegram: {exc.message}") from exc
        if len(data) > limit:
            raise ValueError(f"the file is larger than {limit} bytes")
        return bytes(data)

    # ---------------------------------------------------------------- replies

    async def _run(self, command: IncomingCommand) -> None:
        reply = await self.host.handle(command)
        await self._send_reply(command.chat_id, reply)

    async def _send_reply(self, chat_id: str, reply: Reply) -> None:
        for message in reply.messages:
            for part in split_parts(message):
                next_chat_id = await self.replies.send(chat_id, part)
                if next_chat_id is None:
                    return
                chat_id = next_chat_id

    async def _apologize(self, chat_id: str, lang: str | None) -> None:
        t = translator(lang)
        text = t("Sorry, something went wrong on my side. Please try again in a moment.")
        try:
            await self.messenger.send(chat_id, OutgoingMessage(html.escape(text)))
        except SendError as exc:
            log.warning("Could not apologize in Telegram chat %s: %s", chat_id, exc)
