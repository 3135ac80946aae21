"""A local Telegram Bot API server for tests and benchmarks (see :mod:`tests.telegram_server.server`).

Usage, on the caller's event loop::

    async with BotApiServer(send_rate_limit=500) as server:      # 429 above 500 sends/s
        settings = TelegramSettings(token=server.token, api_base_url=server.api_base_url,
                                    file_base_url=server.file_base_url, admin_ids=[42])
        ann = server.add_user(7, "Ann", language_code="de")
        chat = server.private_chat(ann)
        server.user_sends(chat, ann, "/subscribe Putin")          # an update for getUpdates
        [reply] = await server.wait_for_bot_messages(chat)        # what the bot sent, parsed
        server.inject(Fault.flood(retry_after=2), count=3)        # the next three sends get 429
        assert server.early_sends() == []                         # nobody retried inside a flood window
"""

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
