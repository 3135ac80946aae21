"""Telegram webhook mode: python-telegram-bot's webhook server instead of long polling.

With ``NEWSALERT_TELEGRAM__WEBHOOK_URL`` set, Telegram posts every update to that URL; a reverse proxy
forwards it to ``WEBHOOK_LISTEN`` on one of the instances, so every instance receives (no leader needed for
updates; several instances behind a load balancer share the traffic). Each request must carry the header
``X-Telegram-Bot-Api-Secret-Token`` equal to ``WEBHOOK_SECRET``: PTB's server answers 403 to any other, so
nobody who merely learns the URL can post fake updates. Stopping an instance does not delete the webhook
(the others keep receiving); switching back to polling does (PTB's polling start removes it).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from telegram.error import TelegramError
from telegram.ext import Updater

from bot.transports.base import TransportStartError
from config.settings import TelegramSettings

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 40  # Telegram's default: parallel update requests it may open to the URL


def webhook_enabled(settings: TelegramSettings) -> bool:
    return bool(settings.webhook_url)


def listen_address(settings: TelegramSettings) -> tuple[str, int]:
    """``WEBHOOK_LISTEN`` as (host, port); IPv6 hosts may be written in brackets."""
    host, _, port = settings.webhook_listen.rpartition(":")
    return host.strip("[]"), int(port)


def url_path(settings: TelegramSettings) -> str:
    """The local path the server answers on: the public URL's path (a proxy forwards the path unchanged)."""
    assert settings.webhook_url is not None
    return urlsplit(settings.webhook_url).path.strip("/")


async def start_webhook(updater: Updater, settings: TelegramSettings, allowed_updates: list[str]) -> None:
    """Listen on ``WEBHOOK_LISTEN`` and register ``WEBHOOK_URL`` with Telegram (``setWebhook`` with the
    secret); a port in use or a refused registration is one readable :class:`TransportStartError`."""
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    host, port = listen_address(settings)
    try:
        await updater.start_webhook(
            listen=host,
            port=port,
            url_path=url_path(settings),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=allowed_updates,
            max_connections=MAX_CONNECTIONS,
        )
    except OSError as exc:
        raise TransportStartError(
            f"cannot listen for Telegram webhooks on {settings.webhook_listen} "
            f"(NEWSALERT_TELEGRAM__WEBHOOK_LISTEN): {exc.strerror or exc}"
        ) from exc
    except TelegramError as exc:
        raise TransportStartError(f"Telegram refused the webhook {settings.webhook_url}: {exc.message}") from exc
    except RuntimeError as exc:  # PTB: the webhooks extra (tornado) is not installed
        raise TransportStartError(f"Telegram webhooks are not available: {exc}") from exc
    log.info("Telegram updates arrive by webhook at %s (listening on %s)", settings.webhook_url, f"{host}:{port}")
