"""Sending to rooms: text as ``m.notice``, pictures as ``m.image``, encrypted wherever the room is.

The transaction id comes from the message's idempotency key, so a resend after a crash is deduplicated by
the homeserver; that only works with the same access token, which is why the login is kept in the
application's durable state. In encrypted rooms nio shares the room key with every device of every member,
verified or not (a news bot cannot verify each reader).
"""

from __future__ import annotations

import asyncio
import io
import uuid
from typing import Any

from aiohttp import ClientError
from nio import (
    Api,
    AsyncClient,
    ErrorResponse,
    LocalProtocolError,
    RoomGetStateEventResponse,
    RoomSendResponse,
    UploadResponse,
)
from nio.crypto import encrypt_attachment

from bot.core.messaging import Image, MaybeDelivered, OutgoingMessage, Sent, TransientError
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

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self._closed = False

    def close(self) -> None:
        """Refuse further sends: nio would quietly open a new HTTP session that nobody closes."""
        self._closed = True

    async def send(self, chat_id: str, message: OutgoingMessage, *, thread: ThreadRef | None = None) -> Sent:
        self._check_ready()
        try:
            if message.image is not None:
                content = await self._image_content(chat_id, message, message.image)
            else:
                content = message_content(message)
            content = with_thread(content, thread)
            tx_id = transaction_id(message.idempotency_key)
            if self._client.olm is not None and chat_id not in self._client.rooms:
                return await self._send_to_unsynced_room(chat_id, content, tx_id)
            response = await self._client.room_send(
                chat_id, "m.room.message", content, tx_id=tx_id, ignore_unverified_devices=True
            )
        except (ClientError, OSError, TimeoutError) as exc:
            raise network_error(exc) from exc
        except LocalProtocolError as exc:  # e.g. nio has not seen the room's members yet
            raise TransientError(f"cannot send to {chat_id} yet: {exc}") from exc
        if isinstance(response, RoomSendResponse):
            return Sent((response.event_id,))
        if isinstance(response, ErrorResponse):
            raise send_error_for(response)
        raise TransientError(f"unexpected answer from the homeserver: {response!r}")

    def _check_ready(self) -> None:
        if self._closed:
            raise TransientError("the Matrix transport is stopped")
        if not self._client.access_token:
            raise TransientError("not logged in to the homeserver yet")

    async def _send_to_unsynced_room(self, chat_id: str, content: dict[str, Any], tx_id: str | None) -> Sent:
        """A room joined a moment ago, not in nio's state until the next sync: nio refuses to guess whether
        to encrypt, so ask the homeserver. Encrypted: wait for the sync. Plain: send it as it is."""
        state = await self._client.room_get_state_event(chat_id, "m.room.encryption")
        if isinstance(state, RoomGetStateEventResponse):
            raise TransientError(f"encrypted room {chat_id} is not synced yet")
        if state.status_code != "M_NOT_FOUND":
            raise send_error_for(state)  # M_FORBIDDEN: the bot is not in the room
        method, path, data = Api.room_send(
            self._client.access_token, chat_id, "m.room.message", content, tx_id or str(uuid.uuid4())
        )
        response = await self._client.send(method, path, data, headers={"Content-Type": "application/json"})
        try:
            answer = await response.json(content_type=None)
        finally:
            response.release()
        if response.status == 200 and isinstance(answer, dict) and isinstance(answer.get("event_id"), str):
            return Sent((answer["event_id"],))
        raise send_error_for(ErrorResponse.from_dict(answer if isinstance(answer, dict) else {}))

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


def network_error(exc: BaseException) -> TransientError:
    """No answer is no proof that nothing arrived: the homeserver may have stored the event and died before
    answering. Even "connection refused" proves nothing, because aiohttp silently repeats a PUT once on a
    new connection when a kept-alive one breaks, and only the repeat's error surfaces. So the retry must
    carry the same transaction id: the delivery keeps the message's batch."""
    return MaybeDelivered(f"no answer from the homeserver, the message may have arrived: {exc!r}")


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
