"""Neutral events and the one sending protocol every transport implements.

Message text is a *safe HTML subset* (``<b> <i> <a href> <code>``) with all article text escaped; Telegram
sends it with ``parse_mode=HTML``, Matrix as ``org.matrix.custom.html`` plus a plain body, the console strips
tags. Tags never span a line break, so a message may be split between any two lines.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with (or replied to by) a command. ``fetch`` downloads it only when called."""

    filename: str
    size: int | None
    mime_type: str | None
    fetch: Callable[[], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """What the platform said about a chat named in a command (a Telegram channel managed from a private
    chat). ``refusal`` is ``None`` when the sender administers it and the bot can post there; otherwise
    one of the ``TARGET_*`` reasons below."""

    chat_id: str  # the platform's stable id of the named chat ("-100…"), or the name as typed if unknown
    name: str  # how to show it: "@putinwatch" or the channel's title
    refusal: str | None = None


TARGET_NOT_FOUND = "not_found"  # no such chat, or the bot is not in it
TARGET_NOT_CHANNEL = "not_channel"  # a group or user: groups are managed in the group itself
TARGET_NOT_ADMIN = "not_admin"  # the sender is not an administrator of it
TARGET_BOT_CANNOT_POST = "bot_cannot_post"  # the bot lacks the right to post messages there
TARGET_UNAVAILABLE = "unavailable"  # the platform could not be asked just now


@dataclass(frozen=True, slots=True)
class ChatTarget:
    """A chat named before a command's arguments (``/subscribe @putinwatch Putin``). ``check`` asks the
    platform only when called, so commands that take no target cause no lookups."""

    ref: str  # as typed: "@putinwatch" or "-1001234567890"
    args: str  # the command's arguments after the name
    check: Callable[[], Awaitable[TargetCheck]]


@dataclass(frozen=True, slots=True)
class IncomingCommand:
    platform: str
    chat_id: str
    user_id: str
    name: str  # lower-case command name without prefix or @botname
    args: str = ""
    is_group: bool = False
    is_bot_admin: bool = False  # listed in the platform's ADMIN_IDS (or the console user)
    can_manage_chat: bool = True  # private chat, or chat admin / power level >= 50 in a group
    lang_hint: str | None = None
    attachment: Attachment | None = None
    chat_title: str | None = None
    callback: bool = False  # came from a button press
    command_prefix: str = "/"  # how commands are written on this platform ("!" on Matrix), for help texts
    # A Telegram forum topic the command was written in; ``chat_id`` is then "<group id>/<thread id>", so the
    # topic is a chat of its own (subscriptions, settings) and replies and alerts go into it.
    thread_id: str | None = None
    # In a private chat, a chat named before the arguments; ``args`` still holds the whole text, and the
    # dispatcher uses ``target.args`` only for commands that act on a chat's settings.
    target: ChatTarget | None = None


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    command: str  # the command line the button runs, e.g. "unsubscribe 3"


@dataclass(frozen=True, slots=True)
class Image:
    """A picture sent with a message (a trend chart); the message's ``html`` becomes its caption."""

    data: bytes
    width: int
    height: int
    mime_type: str = "image/png"
    filename: str = "chart.png"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    html: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    link_preview: bool = False
    # Stable id for idempotent sends (Matrix transaction id); derived from the outbox rows it carries.
    idempotency_key: str | None = None
    image: Image | None = None  # sent as a photo / m.image with ``html`` as its caption


@dataclass(frozen=True, slots=True)
class Reply:
    """What a handler answers; the transport sends it to the chat the command came from."""

    messages: tuple[OutgoingMessage, ...] = ()

    @classmethod
    def text(cls, html: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> Reply:
        return cls((OutgoingMessage(html, buttons),))


class SendError(Exception):
    """Base class of delivery failures a transport reports to the delivery service."""


class RetryLater(SendError):
    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(detail or f"retry after {seconds:.1f}s")
        self.seconds = seconds


class ChatGone(SendError):
    """The bot was blocked, kicked, or the room left: deactivate, do not retry."""


class ChatMoved(SendError):
    """The chat has a new id (Telegram group → supergroup migration)."""

    def __init__(self, new_chat_id: str) -> None:
        super().__init__(f"chat moved to {new_chat_id}")
        self.new_chat_id = new_chat_id


class TransientError(SendError):
    """Network trouble or a 5xx: retry with backoff."""


class MaybeDelivered(TransientError):
    """The connection broke after the request went out: the platform may have the message. Its retry must
    carry the same idempotency keys (the same rows in the same batch), or a platform that deduplicates by
    them shows it twice."""


@dataclass(frozen=True, slots=True)
class Sent:
    message_ids: tuple[str, ...] = field(default_factory=tuple)


class Messenger(Protocol):
    """Sending side of a transport."""

    platform: str
    max_message_chars: int
    command_prefix: str  # "/" on Telegram and the console, "!" on Matrix: fills {p} in texts

    async def send(self, chat_id: str, message: OutgoingMessage) -> Sent:
        """Send one message (already split under ``max_message_chars``); raise a :class:`SendError`."""
        ...


THREAD_SEPARATOR = "/"


def thread_chat_id(chat_id: str, thread_id: str) -> str:
    """The chat id of a thread (forum topic) of ``chat_id``: a subscriber of its own."""
    return f"{chat_id}{THREAD_SEPARATOR}{thread_id}"


def split_thread(chat_id: str) -> tuple[str, str | None]:
    """``"-100123/7"`` → ``("-100123", "7")``; a chat id without a thread → ``(chat_id, None)``."""
    base, separator, thread = chat_id.partition(THREAD_SEPARATOR)
    return (base, thread) if separator and thread else (chat_id, None)


def pacing_key(chat_id: str) -> str:
    """The chat whose send budget a message uses: a forum topic shares its group's 20 a minute."""
    return split_thread(chat_id)[0]


_TAG = re.compile(r"<(/?)([a-zA-Z]+)([^>]*)>")
_HREF = re.compile(r"""href\s*=\s*(["'])(.*?)\1""", re.DOTALL)


def html_to_text(text: str) -> str:
    """The plain-text rendering of the safe HTML subset (console, Matrix ``body``, Telegram fallback):
    tags dropped, entities decoded, a link whose text is not its address shown as ``text (url)``."""
    out: list[str] = []
    link_stack: list[str | None] = []
    pos = 0
    for match in _TAG.finditer(text):
        out.append(text[pos : match.start()])
        pos = match.end()
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name == "br" and not closing:
            out.append("\n")
        elif name == "a" and not closing:
            href = _HREF.search(match.group(3))
            link_stack.append(html.unescape(href.group(2)) if href else None)
            out.append("\x00")  # marks where the link text starts
        elif name == "a" and closing and link_stack:
            url = link_stack.pop()
            start = "".join(out).rfind("\x00")
            joined = "".join(out)
            label = joined[start + 1 :]
            shown = html.unescape(label).strip()
            suffix = f" ({url})" if url and url != shown else ""
            out = [joined[:start], label, suffix]
    out.append(text[pos:])
    return html.unescape("".join(out).replace("\x00", ""))
