"""The one retry policy for replies to commands, shared by every transport.

Alerts and digests go through the outbox, which retries across restarts; a reply to a command is sent at
once and retried here for a short while: flood waits are honoured, outages back off, a migrated chat is
followed, a gone chat is reported, and everything stops the moment the transport shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid

from bot.core.messaging import ChatGone, ChatMoved, Messenger, OutgoingMessage, RetryLater, SendError, TransientError
from bot.core.models import ChatKey
from bot.transports.base import TransportHost

log = logging.getLogger(__name__)

REPLY_ATTEMPTS = 6
MAX_BACKOFF_SECONDS = 30.0


class ReplySender:
    """Sends reply messages for one transport; ``stopping`` is set when the transport shuts down."""

    def __init__(self, messenger: Messenger, host: TransportHost, stopping: asyncio.Event) -> None:
        self._messenger = messenger
        self._host = host
        self._stopping = stopping

    async def send(self, chat_id: str, message: OutgoingMessage) -> str | None:
        """Send one message; the chat id to use for the next one (it changes when a chat migrates), or
        ``None`` when the chat is gone or the message could not be sent."""
        platform = self._messenger.platform
        if message.idempotency_key is None:
            # One key for every attempt: a retry after a lost answer is then the same message to a platform
            # that deduplicates (Matrix transaction ids), not a second copy of the reply.
            message = dataclasses.replace(message, idempotency_key=f"reply.{uuid.uuid4().hex}")
        for attempt in range(REPLY_ATTEMPTS):
            try:
                await self._messenger.send(chat_id, message)
                return chat_id
            except RetryLater as exc:
                if not await self.pause(min(exc.seconds, MAX_BACKOFF_SECONDS)):
                    break
            except TransientError as exc:
                log.warning("Reply to %s chat %s failed (%s); retrying", platform, chat_id, exc)
                if not await self.pause(min(2.0**attempt, MAX_BACKOFF_SECONDS)):
                    break
            except ChatMoved as exc:
                await self._host.chat_moved(ChatKey(platform, chat_id), exc.new_chat_id)
                chat_id = exc.new_chat_id
            except ChatGone as exc:
                log.info("%s chat %s is gone (%s)", platform, chat_id, exc)
                await self._host.chat_gone(ChatKey(platform, chat_id))
                return None
            except SendError as exc:
                log.error("Reply to %s chat %s refused: %s", platform, chat_id, exc)
                return None
        log.error("Gave up replying to %s chat %s (too many failures, or shutting down)", platform, chat_id)
        return None

    async def pause(self, seconds: float) -> bool:
        """Sleep before a retry; False when the transport is stopping and the retry should be dropped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return not self._stopping.is_set()
