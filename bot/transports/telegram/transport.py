"""The Telegram transport: receives updates by long polling and sends through :attr:`messenger`.

It only wires the pieces together — session (login, menu), receiving (updates), sending, chats and rights,
button callbacks — and owns the lifecycle."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.ext import TypeHandler

from bot.transports.base import TransportHost
from bot.transports.retry import ReplySender
from bot.transports.telegram.callbacks import CallbackCodec
from bot.transports.telegram.chats import ChatRights
from bot.transports.telegram.sending import TelegramMessenger
from bot.transports.telegram.session import (
    TelegramStartError,
    build_application,
    log_in,
    publish_commands,
    shut_down,
)
from bot.transports.telegram.updates import ALLOWED_UPDATES, UpdateHandler
from bot.transports.telegram.webhook import start_webhook, webhook_enabled
from config.settings import TelegramSettings

log = logging.getLogger(__name__)


class TelegramTransport:
    """Receives updates by long polling and answers through :attr:`messenger`."""

    def __init__(self, settings: TelegramSettings, host: TransportHost) -> None:
        if not settings.enabled:
            raise TelegramStartError("Telegram is not configured: NEWSALERT_TELEGRAM__TOKEN is empty")
        self._settings = settings
        self._host = host
        self._application = build_application(settings)
        bot = self._application.bot
        self._codec = CallbackCodec(host)
        self._stopping = asyncio.Event()  # cuts flood waits and reply retries short on stop()
        self.messenger = TelegramMessenger(bot, self._codec, self._stopping, paid_broadcast=settings.paid_broadcast)
        self._updates = UpdateHandler(
            bot=bot,
            host=host,
            codec=self._codec,
            rights=ChatRights(settings, host, bot),
            messenger=self.messenger,
            replies=ReplySender(self.messenger, host, self._stopping),
            max_upload_bytes=settings.max_upload_bytes,
        )
        self._application.add_handler(TypeHandler(Update, self._updates.on_update))
        self._application.add_error_handler(self._updates.on_error)

    @property
    def bot_username(self) -> str | None:
        return self._updates.bot_username

    @property
    def receives_everywhere(self) -> bool:
        """Webhook mode: every instance receives (behind a proxy); polling must run on one instance only."""
        return webhook_enabled(self._settings)

    async def start(self, *, receive: bool = True) -> None:
        """Log in and make sending work; ``receive=False`` leaves receiving to :meth:`start_receiving` (an
        instance that is not the leader sends alerts but must not poll)."""
        self._stopping.clear()
        await log_in(self._application, self._settings)
        try:
            await self._codec.load()
            await publish_commands(self._application, self._host)
            await self._application.start()
            if receive:
                await self.start_receiving()
        except BaseException:
            await self.stop()  # the caller only stops what started, so undo a half start here
            raise

    async def start_receiving(self) -> None:
        """Long polling, or the webhook server when a webhook URL is set."""
        updater = self._application.updater
        assert updater is not None
        if webhook_enabled(self._settings):
            await start_webhook(updater, self._settings, list(ALLOWED_UPDATES))
            return
        await updater.start_polling(
            timeout=self._settings.poll_timeout,
            allowed_updates=list(ALLOWED_UPDATES),
            error_callback=self._updates.on_polling_error,
        )
        log.info("Telegram bot @%s is polling for updates", self.bot_username)

    async def stop_receiving(self) -> None:
        updater = self._application.updater
        if updater is not None and updater.running:
            await updater.stop()

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
        await shut_down(self._application)
