"""Sending to rooms: text as ``m.notice``, pictures as ``m.image``, encrypted wherever the room is.

The transaction id comes from the message's idempotency key, so a resend after a crash is deduplicated by
the homeserver; that only works with the same access token, which is why the login is kept in the
application's durable state. In encrypted rooms nio shares the room key with every device of every member,
verified or not (a news bot cannot verify each reader).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any

from aiohttp import ClientError
from nio import AsyncClient, ErrorResponse, LocalProtocolError, RoomSendResponse, UploadResponse
from nio.crypto import encrypt_attachment

from bot.core.messaging import ChatGone, Image, OutgoingMessage, Sent, TransientError
from bot.transports.matrix.formatting import (
    MAX_MESSAGE_CHARS,
    PLATFORM,
    ThreadRef,
    image_content,
    message_content,
    send_error_for,
    transaction_id,
    with_thread,
)


class MatrixMessenger:
    """Sends to rooms through the transport's logged-in client."""

    platform = PLATFORM
    max_message_chars = MAX_MESSAGE_CHARS
    command_prefix = "!"

    def __init__(self, client: AsyncClient, synced: Callable[[], bool] = lambda: True) -> None:
        self._client = client
        self._synced = synced
        self._closed = False

    def close(self) -> None:
        """Refuse further sends: nio would quietly open a new HTTP session that nobody closes."""
        self._closed = True

    async def send(self, chat_id: str, message: OutgoingMessage, *, thread: ThreadRef | None = None) -> Sent:
        self._check_ready(chat_id)
        try:
            if message.image is not None:
                content = await self._image_content(chat_id, message, message.image)
            else:
                content = message_content(message)
            response = await self._client.room_send(
                chat_id,
                "m.room.message",
                with_thread(content, thread),
                tx_id=transaction_id(message.idempotency_key),
                ignore_unverified_devices=True,
            )
        except (ClientError, OSError, TimeoutError) as exc:
            raise TransientError(f"homeserver unreachable: {exc!r}") from exc
        except LocalProtocolError as exc:  # e.g. nio has not seen the room's members yet
            raise TransientError(f"cannot send to {chat_id} yet: {exc}") from exc
        if isinstance(response, RoomSendResponse):
            return Sent((response.event_id,))
        if isinstance(response, ErrorResponse):
            raise send_error_for(response)
        raise TransientError(f"unexpected answer from the homeserver: {response!r}")

    def _check_ready(self, chat_id: str) -> None:
        if self._closed:
            raise TransientError("the Matrix transport is stopped")
        if not self._client.access_token:
            raise TransientError("not logged in to the homeserver yet")
        if self._client.olm is not None and chat_id not in self._client.rooms:
            # With encryption on, nio must know a room to decide whether to encrypt; never guess "plain".
            if self._synced():
                raise ChatGone(f"the bot is not in {chat_id}")
            raise TransientError("the first sync has not finished yet")

    def _encrypted(self, chat_id: str) -> bool:
        room = self._client.rooms.get(chat_id)
        return bool(room is not None and room.encrypted and self._client.olm is not None)

    async def _image_content(self, chat_id: str, message: OutgoingMessage, image: Image) -> dict[str, Any]:
        if self._encrypted(chat_id):
            # AES over a whole picture is CPU work: off the event loop
            ciphertext, keys = await asyncio.to_thread(encrypt_attachment, image.data)
            url = await self._upload(ciphertext, "application/octet-stream", image.filename)
            return image_content(message, image, len(image.data), file={"url": url, **keys})
        url = await self._upload(image.data, image.mime_type, image.filename)
        return image_content(message, image, len(image.data), url=url)

    async def _upload(self, data: bytes, mime_type: str, filename: str) -> str:
        response, _ = await self._client.upload(
            io.BytesIO(data), content_type=mime_type, filename=filename, filesize=len(data)
        )
        if isinstance(response, UploadResponse):
            return response.content_uri
        if isinstance(response, ErrorResponse):
            raise send_error_for(response)
        raise TransientError(f"unexpected answer to an upload: {response!r}")


class ThreadMessenger:
    """One reply's view of the messenger: every message goes into the thread the command came from."""

    def __init__(self, messenger: MatrixMessenger, thread: ThreadRef) -> None:
        self._messenger = messenger
        self._thread = thread
        self.platform = messenger.platform
        self.max_message_chars = messenger.max_message_chars
        self.command_prefix = messenger.command_prefix

    async def send(self, chat_id: str, message: OutgoingMessage) -> Sent:
        return await self._messenger.send(chat_id, message, thread=self._thread)
