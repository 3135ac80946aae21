"""A local Telegram Bot API server for tests and benchmarks (see :mod:`tests.telegram_server.server`)."""

from tests.telegram_server.entities import EntityParseError, ParsedText, parse_html
from tests.telegram_server.models import ApiCall, Fault, FloodWindow, SendAttempt, StoredMessage, TgChat, TgUser
from tests.telegram_server.server import BotApiServer

__all__ = [
    "ApiCall",
    "BotApiServer",
    "EntityParseError",
    "Fault",
    "FloodWindow",
    "ParsedText",
    "SendAttempt",
    "StoredMessage",
    "TgChat",
    "TgUser",
    "parse_html",
]
