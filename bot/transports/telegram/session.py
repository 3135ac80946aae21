"""Login and session: the PTB ``Application`` built, started and stopped, and the command menu published.

The application is started piecewise (initialize → start → ``updater.start_polling``) rather than with
``run_polling`` so it shares the event loop with Matrix and the scheduler."""

from __future__ import annotations

import logging

from telegram import BotCommand
from telegram.constants import BotCommandLimit
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.core.i18n import DEFAULT_LANG, LANGUAGES
from bot.transports.base import TransportHost, TransportStartError
from bot.transports.telegram.request import AiohttpRequest
from bot.transports.telegram.updates import COMMAND_RE
from config.settings import TelegramSettings

log = logging.getLogger(__name__)

# Updates of different chats are handled concurrently, those of one chat in order.
CONCURRENT_UPDATES = 16
# Open connections for sends: above the outbox worker's messages in flight (32) plus concurrent replies, so
# a send never waits for a connection and none is opened and closed per message.
SEND_POOL_SIZE = 64


class TelegramStartError(TransportStartError):
    """Telegram could not be started (bad token, API unreachable); the message is one readable line."""


def build_application(settings: TelegramSettings) -> Application:
    assert settings.token is not None
    return (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .base_url(settings.api_base_url)
        .base_file_url(settings.file_base_url)
        .concurrent_updates(CONCURRENT_UPDATES)
        .job_queue(None)  # the application's own scheduler does the timing
        # Sends (alerts in flight plus replies) share one kept-alive pool; long polling has its own.
        .request(AiohttpRequest(pool_size=SEND_POOL_SIZE, pool_timeout=10.0))
        .get_updates_request(AiohttpRequest(pool_size=1, pool_timeout=10.0))
        .build()
    )


async def log_in(application: Application, settings: TelegramSettings) -> None:
    """``getMe``: proves the token and the URL; a failure is one readable :class:`TelegramStartError`."""
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger("httpx").level))
    try:
        await application.initialize()
    except InvalidToken as exc:
        await shut_down(application)
        raise TelegramStartError("Telegram rejected the bot token (NEWSALERT_TELEGRAM__TOKEN)") from exc
    except TelegramError as exc:
        await shut_down(application)
        raise TelegramStartError(
            f"cannot reach the Telegram Bot API at {settings.api_base_url}: {exc.message}"
        ) from exc


async def shut_down(application: Application) -> None:
    try:
        await application.shutdown()
    except Exception:
        log.exception("Telegram shutdown failed")


async def publish_commands(application: Application, host: TransportHost) -> None:
    """The command menu in every supported language (the default one for clients in other languages)."""
    for lang in LANGUAGES:
        commands = [
            BotCommand(name, description[: BotCommandLimit.MAX_DESCRIPTION])
            for name, description in host.command_names(lang)
            if COMMAND_RE.fullmatch(f"/{name}") and name == name.lower() and description.strip()
        ][: BotCommandLimit.MAX_COMMAND_NUMBER]
        try:
            await application.bot.set_my_commands(commands, language_code=None if lang == DEFAULT_LANG else lang)
        except TelegramError as exc:
            # The menu is a convenience; the bot works without it.
            log.warning("Could not publish the Telegram command menu (%s): %s", lang, exc.message)
