"""Messages to the bot's admins (a feed that keeps failing, …): the console user and Telegram admins.

Transports register their messenger with the admins' chat ids when they are built; the services that warn
admins (feed polling) get :meth:`AdminNotifier.notify` at construction, so nothing is patched in later.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.core.messaging import Messenger, OutgoingMessage

log = logging.getLogger(__name__)


class AdminNotifier:
    def __init__(self) -> None:
        self._targets: list[tuple[Messenger, tuple[str, ...]]] = []

    def register(self, messenger: Messenger, admin_chat_ids: Sequence[str]) -> None:
        if admin_chat_ids:
            self._targets.append((messenger, tuple(admin_chat_ids)))

    async def notify(self, text: str) -> None:
        """Best effort: an unreachable admin is logged, never raised (it must not break feed polling)."""
        message = OutgoingMessage(text)
        for messenger, chat_ids in self._targets:
            for chat_id in chat_ids:
                try:
                    await messenger.send(chat_id, message)
                except Exception as exc:
                    log.warning("could not notify admin %s/%s: %s", messenger.platform, chat_id, exc)
