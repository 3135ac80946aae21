"""Telegram adapter on python-telegram-bot 22: updates become neutral :class:`IncomingCommand`s, replies and
alerts go out through :class:`TelegramMessenger`.

The PTB ``Application`` is started piecewise (initialize → start → ``updater.start_polling``) rather than with
``run_polling`` so it shares the event loop with Matrix and the scheduler. This is the only module that imports
``telegram``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import html
import logging
import re
import secrets
import time
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from functools import partial

from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    Chat,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
    User,
)
from telegram.constants import BotCommandLimit, ChatMemberStatus, ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.warnings import PTBDeprecationWarning

from bot.core.alerts.split import split_message
from bot.core.messaging import (
    Attachment,
    Button,
    ChatGone,
    ChatMoved,
    IncomingCommand,
    OutgoingMessage,
    Reply,
    RetryLater,
    SendError,
    Sent,
    TransientError,
    html_to_text,
)
from bot.core.models import ChatKey
from bot.transports.base import TransportHost, TransportStartError
from config.settings import TelegramSettings

log = logging.getLogger(__name__)

PLATFORM = "telegram"
MAX_MESSAGE_CHARS = 4096
MAX_CALLBACK_BYTES = 64
BUTTON_MAX_AGE = timedelta(days=30)
SECRET_STATE_KEY = "telegram.callback_secret"
_BUTTON_STATE_PREFIX = "telegram.button."
ALLOWED_UPDATES = (Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER)
# Updates of different chats are handled concurrently, those of one chat in order (see _ChatLocks).
CONCURRENT_UPDATES = 16
REPLY_ATTEMPTS = 6
_MAX_BACKOFF_SECONDS = 30.0

_COMMAND_RE = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+(.*))?", re.DOTALL)
_ADMIN_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})
_GONE_STATUSES = frozenset({ChatMemberStatus.LEFT, ChatMemberStatus.BANNED})
_GONE_BAD_REQUESTS = (
    "chat not found",
    "have no rights to send",
    "not enough rights to send",
    "group chat was deactivated",
    "chat_write_forbidden",
)

_TEXTS = {
    "en": {
        "apology": "Sorry, something went wrong on my side. Please try again in a moment.",
        "invalid_button": "This button is no longer valid. Please run the command again.",
    },
    "de": {
        "apology": "Entschuldigung, bei mir ist etwas schiefgelaufen. Bitte versuche es gleich noch einmal.",
        "invalid_button": "Diese Schaltfläche ist nicht mehr gültig. Bitte führe den Befehl erneut aus.",
    },
}


class TelegramStartError(TransportStartError):
    """Telegram could not be started (bad token, API unreachable); the message is one readable line."""


# ------------------------------------------------------------------------------------------ pure helpers


def parse_command(text: str, bot_username: str | None) -> tuple[str, str] | None:
    """``(name, args)`` of ``/cmd args`` or ``/cmd@thisbot args``; ``None`` for plain text and for commands
    addressed to another bot."""
    match = _COMMAND_RE.fullmatch(text.strip())
    if match is None:
        return None
    name, target, args = match.groups()
    if target is not None and (bot_username is None or target.lower() != bot_username.lower()):
        return None
    return name.lower(), (args or "").strip()


def retry_after_seconds(exc: RetryAfter) -> float:
    # PTB 22 warns that ``retry_after`` becomes a timedelta; accept both without the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return max(seconds, 0.0)


def _chat_ref(chat_id: str) -> int | str:
    """Numeric ids as int (what the Bot API expects), ``@channel`` names as they are."""
    try:
        return int(chat_id)
    except ValueError:
        return chat_id


def _lang(code: str | None) -> str | None:
    return code.split("-")[0].lower() if code else None


def _text(lang: str | None, key: str) -> str:
    return _TEXTS.get(lang or "en", _TEXTS["en"]).get(key) or _TEXTS["en"][key]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


# ------------------------------------------------------------------------------------------ callback data


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
        return _b64(hmac.new(await self._key(), message, hashlib.sha256).digest()[:9])

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


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
        if number == 0:
            return text


# ------------------------------------------------------------------------------------------ sending


class _FloodGate:
    """After a 429 every send of this bot waits until ``retry_after`` has passed, not only the retried one:
    requests made during a flood wait only extend it. Setting ``abort`` ends the waits (shutdown)."""

    def __init__(self, abort: asyncio.Event) -> None:
        self._until = 0.0
        self._abort = abort

    def hold(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._until = max(self._until, loop.time() + seconds)

    async def wait(self) -> None:
        # Re-check after sleeping: another 429 may have extended the hold meanwhile.
        delay = self._remaining()
        while delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._abort.wait(), delay)
            if self._abort.is_set():
                raise TransientError("the Telegram transport is stopping")
            delay = self._remaining()

    def _remaining(self) -> float:
        return self._until - asyncio.get_running_loop().time()


def _is_markup_error(exc: BadRequest) -> bool:
    return "can't parse entities" in exc.message.lower()


def _bad_request_error(exc: BadRequest) -> SendError:
    text = exc.message.lower()
    if any(marker in text for marker in _GONE_BAD_REQUESTS):
        return ChatGone(exc.message)
    return SendError(f"Telegram refused the message: {exc.message}")


class TelegramMessenger:
    """The :class:`~bot.core.messaging.Messenger` of Telegram. Needs the transport started (bot initialized)."""

    platform = PLATFORM
    max_message_chars = MAX_MESSAGE_CHARS
    command_prefix = "/"

    def __init__(self, bot: Bot, codec: CallbackCodec, stopping: asyncio.Event | None = None) -> None:
        self._bot = bot
        self._codec = codec
        self._flood = _FloodGate(stopping or asyncio.Event())

    async def send(self, chat_id: str, message: OutgoingMessage) -> Sent:
        markup = await self._keyboard(chat_id, message.buttons)
        try:
            sent = await self._post(chat_id, message.html, ParseMode.HTML, markup, message.link_preview)
        except BadRequest as exc:
            if not _is_markup_error(exc):
                raise _bad_request_error(exc) from exc
            # Never lose an alert over markup: the same words without formatting.
            log.warning(
                "Telegram rejected the markup of a message to %s (%s); sending it as plain text", chat_id, exc.message
            )
            try:
                sent = await self._post(chat_id, html_to_text(message.html), None, markup, message.link_preview)
            except BadRequest as plain_exc:
                raise _bad_request_error(plain_exc) from plain_exc
        return Sent((str(sent.message_id),))

    async def _keyboard(self, chat_id: str, rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
        if not rows:
            return None
        keyboard = [
            [
                InlineKeyboardButton(button.label, callback_data=await self._codec.encode(chat_id, button.command))
                for button in row
            ]
            for row in rows
            if row
        ]
        return InlineKeyboardMarkup(keyboard)

    async def _post(
        self,
        chat_id: str,
        text: str,
        parse_mode: str | None,
        markup: InlineKeyboardMarkup | None,
        link_preview: bool,
    ) -> Message:
        """One sendMessage with Telegram's errors mapped to :class:`SendError`s; BadRequest is left to the
        caller, which knows whether a plain-text retry makes sense."""
        await self._flood.wait()
        try:
            return await self._bot.send_message(
                chat_id=_chat_ref(chat_id),
                text=text,
                parse_mode=parse_mode,
                reply_markup=markup,
                link_preview_options=LinkPreviewOptions(is_disabled=not link_preview),
            )
        except RetryAfter as exc:
            seconds = retry_after_seconds(exc)
            self._flood.hold(seconds)
            raise RetryLater(seconds, f"Telegram flood control: retry after {seconds:g}s") from exc
        except ChatMigrated as exc:
            raise ChatMoved(str(exc.new_chat_id)) from exc
        except Forbidden as exc:
            raise ChatGone(exc.message) from exc
        except BadRequest:
            raise
        except NetworkError as exc:  # includes TimedOut and 5xx answers
            raise TransientError(f"Telegram unreachable: {exc.message}") from exc
        except TelegramError as exc:
            raise SendError(f"Telegram error: {exc.message}") from exc


# ------------------------------------------------------------------------------------------ transport


class _ChatLocks:
    """One lock per chat, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: Counter[str] = Counter()

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if self._users[key] <= 0:
                del self._users[key]
                self._locks.pop(key, None)


def _build_application(settings: TelegramSettings) -> Application:
    assert settings.token is not None
    return (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .base_url(settings.api_base_url)
        .base_file_url(settings.file_base_url)
        .concurrent_updates(CONCURRENT_UPDATES)
        .job_queue(None)  # the application's own scheduler does the timing
        .pool_timeout(10.0)
        .build()
    )


class TelegramTransport:
    """Receives updates by long polling and answers through :attr:`messenger`."""

    def __init__(self, settings: TelegramSettings, host: TransportHost) -> None:
        if not settings.enabled:
            raise TelegramStartError("Telegram is not configured: NEWSALERT_TELEGRAM__TOKEN is empty")
        self._settings = settings
        self._host = host
        self._application = _build_application(settings)
        self._codec = CallbackCodec(host)
        self._stopping = asyncio.Event()  # cuts flood waits short so stop() never waits out a 429
        self.messenger = TelegramMessenger(self._application.bot, self._codec, self._stopping)
        self._locks = _ChatLocks()
        self._application.add_handler(TypeHandler(Update, self._on_update))
        self._application.add_error_handler(self._on_error)

    @property
    def bot_username(self) -> str | None:
        try:
            return self._application.bot.username
        except RuntimeError:  # not initialized yet: no getMe answer
            return None

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        self._stopping.clear()
        # httpx logs every request URL at INFO, and Bot API URLs contain the token.
        logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
        try:
            await self._application.initialize()  # getMe: proves the token and the URL
        except InvalidToken as exc:
            await self._shutdown_quietly()
            raise TelegramStartError("Telegram rejected the bot token (NEWSALERT_TELEGRAM__TOKEN)") from exc
        except TelegramError as exc:
            await self._shutdown_quietly()
            raise TelegramStartError(
                f"cannot reach the Telegram Bot API at {self._settings.api_base_url}: {exc.message}"
            ) from exc
        try:
            await self._codec.load()
            await self._publish_commands()
            await self._application.start()
            updater = self._application.updater
            assert updater is not None
            await updater.start_polling(
                timeout=self._settings.poll_timeout,
                allowed_updates=list(ALLOWED_UPDATES),
                error_callback=self._on_polling_error,
            )
        except BaseException:
            await self.stop()  # the caller only stops what started, so undo a half start here
            raise
        log.info("Telegram bot @%s is polling for updates", self.bot_username)

    async def stop(self) -> None:
        self._stopping.set()
        updater = self._application.updater
        try:
            if updater is not None and updater.running:
                await updater.stop()
            if self._application.running:
                await self._application.stop()
        except Exception:
            log.exception("Telegram did not stop cleanly")
        await self._shutdown_quietly()

    async def _shutdown_quietly(self) -> None:
        try:
            await self._application.shutdown()
        except Exception:
            log.exception("Telegram shutdown failed")

    async def _publish_commands(self) -> None:
        for lang, language_code in (("en", None), ("de", "de")):
            commands = [
                BotCommand(name, description[: BotCommandLimit.MAX_DESCRIPTION])
                for name, description in self._host.command_names(lang)
                if _COMMAND_RE.fullmatch(f"/{name}") and name == name.lower() and description.strip()
            ][: BotCommandLimit.MAX_COMMAND_NUMBER]
            try:
                await self._application.bot.set_my_commands(commands, language_code=language_code)
            except TelegramError as exc:
                # The menu is a convenience; the bot works without it.
                log.warning("Could not publish the Telegram command menu (%s): %s", lang, exc.message)

    # ---------------------------------------------------------------- incoming

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        user = update.effective_user
        lang = _lang(user.language_code) if user else None
        async with self._locks.hold(str(chat.id) if chat else ""):
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

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("Unhandled error in the Telegram application", exc_info=context.error)

    def _on_polling_error(self, exc: TelegramError) -> None:
        log.warning("Polling Telegram for updates failed (%s); retrying", exc.message)

    async def _on_membership(self, change: ChatMemberUpdated) -> None:
        if change.new_chat_member.status in _GONE_STATUSES:
            log.info("Bot removed from or blocked in Telegram chat %s", change.chat.id)
            await self._host.chat_gone(ChatKey(PLATFORM, str(change.chat.id)))

    async def _on_message(self, message: Message) -> None:
        if message.migrate_to_chat_id is not None:
            log.info("Telegram group %s became supergroup %s", message.chat.id, message.migrate_to_chat_id)
            await self._host.chat_moved(ChatKey(PLATFORM, str(message.chat.id)), str(message.migrate_to_chat_id))
            return
        user = message.from_user
        parsed = parse_command(message.text or message.caption or "", self.bot_username)
        if parsed is None or user is None:
            return
        # An anonymous group admin writes as the group itself; only admins can do that.
        anonymous_admin = message.sender_chat is not None and message.sender_chat.id == message.chat.id
        if user.is_bot and not anonymous_admin:
            return
        name, args = parsed
        command = await self._incoming(
            message.chat, user, name, args, attachment=self._attachment(message), anonymous_admin=anonymous_admin
        )
        await self._run(command)

    async def _on_callback(self, query: CallbackQuery, lang: str | None) -> None:
        chat = query.message.chat if query.message is not None else None
        command_line = await self._codec.decode(str(chat.id), query.data or "") if chat is not None else None
        if chat is None or command_line is None:
            log.info("Refused button data %r from Telegram user %s", query.data, query.from_user.id)
            await self._answer(query, _text(lang, "invalid_button"))
            return
        await self._answer(query, None)  # stops the button's spinner at once
        name, _, args = command_line.partition(" ")
        command = await self._incoming(chat, query.from_user, name.lower(), args.strip(), callback=True)
        await self._run(command)

    async def _answer(self, query: CallbackQuery, text: str | None) -> None:
        try:
            await query.answer(text=text)
        except TelegramError as exc:
            log.info("Could not answer a Telegram button press: %s", exc.message)

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
        limit = self._settings.max_upload_bytes
        if declared_size is not None and declared_size > limit:
            raise ValueError(f"the file is larger than {limit} bytes")
        try:
            telegram_file = await self._application.bot.get_file(file_id)
            if telegram_file.file_size is not None and telegram_file.file_size > limit:
                raise ValueError(f"the file is larger than {limit} bytes")
            data = await telegram_file.download_as_bytearray()
        except TelegramError as exc:
            raise ConnectionError(f"could not download the file from Telegram: {exc.message}") from exc
        if len(data) > limit:
            raise ValueError(f"the file is larger than {limit} bytes")
        return bytes(data)

    async def _incoming(
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
        is_bot_admin = user.id in self._settings.admin_ids
        return IncomingCommand(
            platform=PLATFORM,
            chat_id=str(chat.id),
            user_id=str(user.id),
            name=name,
            args=args,
            is_group=chat.type in (ChatType.GROUP, ChatType.SUPERGROUP),
            is_bot_admin=is_bot_admin,
            can_manage_chat=await self._can_manage_chat(chat, user, name, is_bot_admin, anonymous_admin),
            lang_hint=_lang(user.language_code),
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
            member = await self._application.bot.get_chat_member(chat.id, user.id)
        except TelegramError as exc:
            log.warning("Could not check %s's rights in Telegram chat %s: %s", user.id, chat.id, exc.message)
            return False
        return member.status in _ADMIN_STATUSES

    # ---------------------------------------------------------------- replies

    async def _run(self, command: IncomingCommand) -> None:
        reply = await self._host.handle(command)
        await self._send_reply(command.chat_id, reply)

    async def _send_reply(self, chat_id: str, reply: Reply) -> None:
        for message in reply.messages:
            for part in _parts(message):
                next_chat_id = await self._send_with_retries(chat_id, part)
                if next_chat_id is None:
                    return
                chat_id = next_chat_id

    async def _send_with_retries(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Send one reply message, waiting out floods and outages; the chat id to use next, or ``None``
        when the chat is gone or the message could not be sent."""
        for attempt in range(REPLY_ATTEMPTS):
            try:
                await self.messenger.send(chat_id, message)
                return chat_id
            except RetryLater as exc:
                if not await self._pause(exc.seconds):
                    break
            except TransientError as exc:
                log.warning("Reply to Telegram chat %s failed (%s); retrying", chat_id, exc)
                if not await self._pause(min(2.0**attempt, _MAX_BACKOFF_SECONDS)):
                    break
            except ChatMoved as exc:
                await self._host.chat_moved(ChatKey(PLATFORM, chat_id), exc.new_chat_id)
                chat_id = exc.new_chat_id
            except ChatGone as exc:
                log.info("Telegram chat %s is gone (%s)", chat_id, exc)
                await self._host.chat_gone(ChatKey(PLATFORM, chat_id))
                return None
            except SendError as exc:
                log.error("Reply to Telegram chat %s refused: %s", chat_id, exc)
                return None
        log.error("Gave up replying to Telegram chat %s (too many failures, or shutting down)", chat_id)
        return None

    async def _pause(self, seconds: float) -> bool:
        """Sleep before a retry; False when the transport is stopping and the retry should be dropped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return not self._stopping.is_set()

    async def _apologize(self, chat_id: str, lang: str | None) -> None:
        try:
            await self.messenger.send(chat_id, OutgoingMessage(html.escape(_text(lang, "apology"))))
        except SendError as exc:
            log.warning("Could not apologize in Telegram chat %s: %s", chat_id, exc)


def _parts(message: OutgoingMessage) -> Sequence[OutgoingMessage]:
    """A reply longer than Telegram allows, as several messages; buttons go under the last one."""
    texts = split_message(message.html, MAX_MESSAGE_CHARS)
    if len(texts) <= 1:
        return [message]
    last = len(texts) - 1
    return [
        OutgoingMessage(text, message.buttons if index == last else (), message.link_preview)
        for index, text in enumerate(texts)
    ]
