"""Telegram adapter on python-telegram-bot 22: updates become neutral :class:`IncomingCommand`s, replies and
alerts go out through :class:`TelegramMessenger`. This package is the only code that imports ``telegram``.

One module per concern: :mod:`.session` (login, command menu), :mod:`.updates` (receiving),
:mod:`.sending` (messages, photos, errors), :mod:`.chats` (senders, their rights, forum topics),
:mod:`.channels` (channels named in a private chat and their rights checks), :mod:`.callbacks` (signed button
data), :mod:`.transport` (wiring and lifecycle).
"""

from bot.transports.telegram.callbacks import BUTTON_MAX_AGE, MAX_CALLBACK_BYTES, SECRET_STATE_KEY, CallbackCodec
from bot.transports.telegram.sending import (
    MAX_CAPTION_CHARS,
    MAX_MESSAGE_CHARS,
    PLATFORM,
    TelegramMessenger,
    retry_after_seconds,
)
from bot.transports.telegram.session import CONCURRENT_UPDATES, TelegramStartError
from bot.transports.telegram.transport import TelegramTransport
from bot.transports.telegram.updates import ALLOWED_UPDATES, parse_command

__all__ = [
    "ALLOWED_UPDATES",
    "BUTTON_MAX_AGE",
    "CONCURRENT_UPDATES",
    "MAX_CALLBACK_BYTES",
    "MAX_CAPTION_CHARS",
    "MAX_MESSAGE_CHARS",
    "PLATFORM",
    "SECRET_STATE_KEY",
    "CallbackCodec",
    "TelegramMessenger",
    "TelegramStartError",
    "TelegramTransport",
    "parse_command",
    "retry_after_seconds",
]
