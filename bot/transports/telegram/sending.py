"""Sending to Telegram: messages and photos with HTML formatting, buttons, flood control and the Bot API's
errors mapped to the neutral :class:`~bot.core.messaging.SendError`s the delivery service understands."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TypeVar

import orjson
from telegram import Bot, InputFile, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.core.alerts.split import split_message
from bot.core.messaging import (
    Button,
    ChatGone,
    ChatMoved,
    Image,
    OutgoingMessage,
    RetryLater,
    SendError,
    Sent,
    TransientError,
    html_to_text,
    split_thread,
)
from bot.transports.telegram.callbacks import CallbackCodec
from bot.transports.telegram.request import AiohttpRequest

log = logging.getLogger(__name__)
T = TypeVar("T")

PLATFORM = "telegram"
MAX_MESSAGE_CHARS = 4096
MAX_CAPTION_CHARS = 1024  # of a photo's caption, counted like a message: visible characters after parsing
_GONE_BAD_REQUESTS = (
    "chat not found",
    "have no rights to send",
    "not enough rights to send",
    "group chat was deactivated",
    "chat_write_forbidden",
    "need administrator rights in the channel",  # a channel that took the bot's right to post
    # A forum topic that was closed or deleted: only that topic (its own chat id) pauses.
    "message thread not found",
    "topic_closed",
    "topic_deleted",
)
# The link preview options in their JSON form, built once rather than per message.
_NO_PREVIEW = {"is_disabled": True}
_PREVIEW = {"is_disabled": False}
_SEND_MESSAGE = "sendMessage"
Markup = dict[str, list[list[dict[str, str]]]]  # an InlineKeyboardMarkup as the Bot API reads it


def retry_after_seconds(exc: RetryAfter) -> float:
    # PTB 22 warns that ``retry_after`` becomes a timedelta; accept both without the warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return max(seconds, 0.0)


def chat_ref(chat_id: str) -> int | str:
    """Numeric ids as int (what the Bot API expects), ``@channel`` names as they are."""
    try:
        return int(chat_id)
    except ValueError:
        return chat_id


def address(chat_id: str) -> dict[str, int | str]:
    """The Bot API parameters that address a chat id: a forum topic ``"<group>/<thread>"`` is its group
    plus ``message_thread_id``."""
    base, thread = split_thread(chat_id)
    params: dict[str, int | str] = {"chat_id": chat_ref(base)}
    if thread is not None and thread.isdigit():
        params["message_thread_id"] = int(thread)
    return params


def split_parts(message: OutgoingMessage, limit: int = MAX_MESSAGE_CHARS) -> Sequence[OutgoingMessage]:
    """A text longer than Telegram allows, as several messages; buttons go under the last one. A message
    with an image stays whole: its text is the caption, which :class:`TelegramMessenger` handles."""
    if message.image is not None:
        return [message]
    texts = split_message(message.html, limit)
    if len(texts) <= 1:
        return [message]
    last = len(texts) - 1
    return [
        OutgoingMessage(text, message.buttons if index == last else (), message.link_preview)
        for index, text in enumerate(texts)
    ]


class FloodGate:
    """After a 429 every send of this bot waits until ``retry_after`` has passed, not only the retried one:
    requests made during a flood wait only extend it. Setting ``abort`` ends the waits (shutdown)."""

    def __init__(self, abort: asyncio.Event) -> None:
        self._until = 0.0
        self._abort = abort

    def hold(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._until = max(self._until, loop.time() + seconds)

    async def wait(self) -> None:
        if self._until == 0.0:  # the common case: never flooded, no clock read needed
            return
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


def _send_error(exc: TelegramError) -> SendError:
    """Telegram's errors as :class:`SendError`s. BadRequest is left to the caller, which knows whether a
    plain-text retry makes sense, and RetryAfter too (it must hold the flood gate)."""
    if isinstance(exc, ChatMigrated):
        return ChatMoved(str(exc.new_chat_id))
    if isinstance(exc, Forbidden):
        return ChatGone(exc.message)
    if isinstance(exc, NetworkError):  # includes TimedOut and 5xx answers
        return TransientError(f"Telegram unreachable: {exc.message}")
    return SendError(f"Telegram error: {exc.message}")


class TelegramMessenger:
    """The :class:`~bot.core.messaging.Messenger` of Telegram. Needs the transport started (bot initialized).

    ``paid_broadcast`` sends with ``allow_paid_broadcast`` (Telegram then allows up to 1,000 messages a
    second for a fee in Stars); the pacing itself is the delivery service's rate limiter."""

    platform = PLATFORM
    max_message_chars = MAX_MESSAGE_CHARS
    command_prefix = "/"

    def __init__(
        self,
        bot: Bot,
        codec: CallbackCodec,
        stopping: asyncio.Event | None = None,
        *,
        paid_broadcast: bool = False,
    ) -> None:
        self._bot = bot
        # Alerts go straight to this client when it is ours (see ``_call``); another client (tests) through PTB.
        self._direct = bot.request if isinstance(bot.request, AiohttpRequest) else None
        self._api_url = bot.base_url
        self._codec = codec
        self._flood = FloodGate(stopping or asyncio.Event())
        self._paid = True if paid_broadcast else None  # None: the parameter is not sent at all

    async def send(self, chat_id: str, message: OutgoingMessage) -> Sent:
        markup = await self._keyboard(chat_id, message.buttons)
        if message.image is not None:
            return await self._send_photo(chat_id, message, message.image, markup)
        message_id = await self._formatted(chat_id, message.html, markup, message.link_preview)
        return Sent((str(message_id),))

    async def _formatted(
        self, chat_id: str, text: str, markup: Markup | None, link_preview: bool
    ) -> int:
        try:
            return await self._text(chat_id, text, ParseMode.HTML, markup, link_preview)
        except BadRequest as exc:
            if not _is_markup_error(exc):
                raise _bad_request_error(exc) from exc
            # Never lose an alert over markup: the same words without formatting.
            log.warning(
                "Telegram rejected the markup of a message to %s (%s); sending it as plain text", chat_id, exc.message
            )
            try:
                return await self._text(chat_id, html_to_text(text), None, markup, link_preview)
            except BadRequest as plain_exc:
                raise _bad_request_error(plain_exc) from plain_exc

    async def _send_photo(
        self, chat_id: str, message: OutgoingMessage, image: Image, markup: Markup | None
    ) -> Sent:
        """The image with the text as its caption; a text over the caption limit follows as messages of its
        own (the buttons then go under the last of them, where the words they act on are)."""
        fits = len(html_to_text(message.html)) <= MAX_CAPTION_CHARS
        photo = await self._photo(chat_id, image, message.html if fits else None, markup if fits else None)
        ids = [str(photo.message_id)]
        if not fits:
            follow_up = OutgoingMessage(message.html, message.buttons, message.link_preview)
            parts = split_parts(follow_up)
            for index, part in enumerate(parts):
                part_markup = markup if index == len(parts) - 1 else None
                message_id = await self._formatted(chat_id, part.html, part_markup, part.link_preview)
                ids.append(str(message_id))
        return Sent(tuple(ids))

    async def _photo(
        self, chat_id: str, image: Image, caption: str | None, markup: Markup | None
    ) -> Message:
        try:
            return await self._photo_once(chat_id, image, caption, ParseMode.HTML if caption else None, markup)
        except BadRequest as exc:
            if caption is None or not _is_markup_error(exc):
                raise _bad_request_error(exc) from exc
            log.warning("Telegram rejected the caption markup of a photo to %s (%s); plain caption", chat_id, exc)
            try:
                return await self._photo_once(chat_id, image, html_to_text(caption), None, markup)
            except BadRequest as plain_exc:
                raise _bad_request_error(plain_exc) from plain_exc

    async def _keyboard(self, chat_id: str, rows: tuple[tuple[Button, ...], ...]) -> Markup | None:
        """The inline keyboard in its JSON form (built directly: PTB's objects would be converted back)."""
        if not rows:
            return None
        encode = self._codec.encode
        keyboard = [
            [{"text": button.label, "callback_data": await encode(chat_id, button.command)} for button in row]
            for row in rows
            if row
        ]
        return {"inline_keyboard": keyboard}

    async def _text(
        self,
        chat_id: str,
        text: str,
        parse_mode: str | None,
        markup: Markup | None,
        link_preview: bool,
    ) -> int:
        """One sendMessage; the id of the message sent."""
        params: dict[str, object] = {
            **address(chat_id),
            "text": text,
            "link_preview_options": _PREVIEW if link_preview else _NO_PREVIEW,
        }
        if parse_mode is not None:
            params["parse_mode"] = parse_mode
        if markup is not None:
            params["reply_markup"] = markup
        if self._paid:
            params["allow_paid_broadcast"] = True
        result = await self._guarded(lambda: self._call(_SEND_MESSAGE, params))
        if not isinstance(result, dict) or "message_id" not in result:
            raise SendError(f"Telegram answered sendMessage without a message: {result!r}")
        return int(result["message_id"])

    async def _call(self, method: str, params: dict[str, object]) -> object:
        """One Bot API call with parameters already in their JSON form; the answer's ``result`` as a dict.

        Not ``Bot.send_message``: that validates and wraps every argument and turns the answer into a
        ``Message`` object tree, which cost more CPU per alert than the HTTP request itself and of which only
        ``message_id`` is used. Our own client takes the encoded body directly (``post_json``); any other
        goes through ``do_api_request``. Either way errors arrive as PTB's exceptions."""
        if self._direct is not None:
            return await self._direct.post_json(f"{self._api_url}/{method}", orjson.dumps(params))
        # Bot API method names are case-insensitive; the lower-case spelling is not a ``Bot`` attribute, so
        # PTB does not warn that ``Bot.send_message`` exists.
        return await self._bot.do_api_request(method.lower(), api_kwargs=params)

    async def _photo_once(
        self,
        chat_id: str,
        image: Image,
        caption: str | None,
        parse_mode: str | None,
        markup: Markup | None,
    ) -> Message:
        """One sendPhoto, uploading the image (multipart)."""
        target = address(chat_id)
        thread = target.get("message_thread_id")
        return await self._guarded(
            lambda: self._bot.send_photo(
                chat_id=target["chat_id"],
                message_thread_id=thread if isinstance(thread, int) else None,
                photo=InputFile(image.data, filename=image.filename, attach=True),
                caption=caption,
                parse_mode=parse_mode,
                allow_paid_broadcast=self._paid,
                api_kwargs=None if markup is None else {"reply_markup": markup},
            )
        )

    async def _guarded(self, call: Callable[[], Awaitable[T]]) -> T:
        """One Bot API call, after any flood-control pause, with Telegram's errors turned into the delivery's
        (``BadRequest`` stays: the caller decides whether the text or the chat is at fault)."""
        await self._flood.wait()
        try:
            return await call()
        except RetryAfter as exc:
            raise self._flooded(exc) from exc
        except BadRequest:
            raise
        except TelegramError as exc:
            raise _send_error(exc) from exc

    def _flooded(self, exc: RetryAfter) -> RetryLater:
        seconds = retry_after_seconds(exc)
        self._flood.hold(seconds)
        return RetryLater(seconds, f"Telegram flood control: retry after {seconds:g}s")
