"""Receiving: room events (plain or already decrypted by nio) become commands for the application.

A command typed inside a thread is answered in that thread; the room stays the subscriber either way.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from nio import AsyncClient, MegolmEvent, RoomGetEventResponse
from nio.exceptions import EncryptionError

from bot.core.i18n import translator
from bot.core.messaging import IncomingCommand, Messenger, OutgoingMessage, SendError
from bot.transports.base import TransportHost
from bot.transports.matrix.attachments import Downloader, FileEvent, FileMemory, file_event
from bot.transports.matrix.formatting import (
    COMMAND_PREFIX,
    PLATFORM,
    ThreadRef,
    parse_command,
    reply_target,
    strip_reply_fallback,
    thread_root,
)
from bot.transports.matrix.rooms import RoomRights
from bot.transports.matrix.sending import MatrixMessenger, ThreadMessenger
from bot.transports.matrix.undecryptable import Undecryptable
from bot.transports.retry import ReplySender
from config.settings import MatrixSettings

log = logging.getLogger(__name__)

STATE_E2E_NOTICE = "matrix.e2e_notice:"  # + room id: the room got its "encryption is off" notice


def _is_own_join(source: dict[str, Any], user_id: str) -> bool:
    content = source.get("content") or {}
    return (
        source.get("type") == "m.room.member"
        and source.get("state_key") == user_id
        and content.get("membership") == "join"
    )


class Receiver:
    """Turns one room's new events into commands and sends the replies."""

    def __init__(
        self,
        client: AsyncClient,
        settings: MatrixSettings,
        host: TransportHost,
        messenger: MatrixMessenger,
        stopping: asyncio.Event,
    ) -> None:
        self._client = client
        self._settings = settings
        self._host = host
        self._messenger = messenger
        self._stopping = stopping
        self._user_id = settings.user_id or ""
        self._rights = RoomRights(client)
        self._files = FileMemory()
        self._downloader = Downloader(client, settings.max_upload_bytes)
        self.undecryptable = Undecryptable(self._decrypt)
        self._e2e_notified: set[str] = set()

    async def on_room_events(self, room_id: str, events: list[Any]) -> None:
        active = False  # someone spoke, or the bot just joined: a moment where a notice makes sense
        for event in events:
            source = getattr(event, "source", None)
            if not isinstance(source, dict):
                continue
            if source.get("sender") == self._user_id:
                active = active or _is_own_join(source, self._user_id)
                continue
            active = True
            if isinstance(event, MegolmEvent):
                await self._on_undecryptable(room_id, event)
                continue
            await self.on_event(room_id, source)
        room = self._client.rooms.get(room_id)
        if active and room is not None and room.encrypted and self._client.olm is None:
            await self._notify_encryption_off(room_id)

    async def on_event(self, room_id: str, source: dict[str, Any]) -> None:
        try:
            await self._on_event(room_id, source)
        except Exception:
            # one bad event must not stop the room (or the sync token) from moving on
            log.exception("matrix: failed to handle event %s in %s", source.get("event_id"), room_id)

    async def retry_undecryptable(self, keys_arrived: bool) -> None:
        """After a sync: handle what its new keys unlock; ask senders whose key never came to resend."""
        outcome = self.undecryptable.retry(keys_arrived)
        for room_id, source in outcome.decrypted:
            await self.on_event(room_id, source)
        t = translator(None, COMMAND_PREFIX)
        for room_id, sender in outcome.ask_to_resend:
            notice = t(
                "{sender}: I could not decrypt your last message, because its key never reached me. "
                "Please send it again.",
                sender=sender,
            )
            await self._reply_sender(None).send(room_id, OutgoingMessage(notice))

    async def _on_undecryptable(self, room_id: str, event: MegolmEvent) -> None:
        if self._client.olm is None:
            await self._notify_encryption_off(room_id)
            return
        self.undecryptable.add(room_id, event)

    def _decrypt(self, room_id: str, event: MegolmEvent) -> Any:
        if self._client.olm is None:
            raise EncryptionError("encryption is off")
        return self._client.olm.decrypt_megolm_event(event, room_id)

    async def _on_event(self, room_id: str, source: dict[str, Any]) -> None:
        if source.get("type") != "m.room.message":
            return
        sender = str(source.get("sender", ""))
        content = source.get("content") or {}
        offered = file_event(source)
        if offered is not None:
            self._files.remember(room_id, offered)
            return
        previous_file = self._files.claim_last(room_id, sender)
        if content.get("msgtype") != "m.text":
            return  # notices come from bots; images, emotes etc. are not commands
        parsed = parse_command(strip_reply_fallback(str(content.get("body", ""))))
        if parsed is None:
            return
        name, args = parsed
        replied_to = reply_target(content)
        attached = await self._file_for_reply(room_id, replied_to) if replied_to else previous_file
        root = thread_root(content)
        thread = ThreadRef(root, str(source.get("event_id", ""))) if root else None
        await self._run_command(room_id, sender, name, args, attached, thread)

    async def _file_for_reply(self, room_id: str, event_id: str) -> FileEvent | None:
        cached = self._files.by_id(event_id)
        if cached is not None:
            return cached
        answer = await self._client.room_get_event(room_id, event_id)  # e.g. a file sent before a restart
        if not isinstance(answer, RoomGetEventResponse):
            return None
        event = answer.event
        if isinstance(event, MegolmEvent):
            try:
                event = self._decrypt(room_id, event)
            except EncryptionError as exc:
                log.warning("matrix: the file %s in %s does not decrypt: %s", event_id, room_id, exc)
                return None
        source = getattr(event, "source", None)
        return file_event(source) if isinstance(source, dict) else None

    async def _run_command(
        self,
        room_id: str,
        sender: str,
        name: str,
        args: str,
        attached: FileEvent | None,
        thread: ThreadRef | None,
    ) -> None:
        room = self._client.rooms.get(room_id)
        is_group = await self._rights.is_group(room_id)
        is_admin = sender in self._settings.admin_ids
        can_manage = True
        if is_group and not is_admin and self._host.requires_chat_admin(name):
            can_manage = await self._rights.is_room_manager(room_id, sender)
        command = IncomingCommand(
            platform=PLATFORM,
            chat_id=room_id,
            user_id=sender,
            chat_title=room.display_name if room is not None and is_group else None,
            name=name,
            args=args,
            attachment=self._downloader.attachment(attached) if attached else None,
            is_group=is_group,
            is_bot_admin=is_admin,
            can_manage_chat=can_manage,
            command_prefix=MatrixMessenger.command_prefix,
        )
        reply = await self._host.handle(command)
        sender_for_reply = self._reply_sender(thread)
        for message in reply.messages:
            if await sender_for_reply.send(room_id, message) is None:
                return

    def _reply_sender(self, thread: ThreadRef | None) -> ReplySender:
        messenger: Messenger = ThreadMessenger(self._messenger, thread) if thread else self._messenger
        return ReplySender(messenger, self._host, self._stopping)

    async def _notify_encryption_off(self, room_id: str) -> None:
        """With encryption switched off, an encrypted room gets one clear notice instead of silence."""
        if room_id in self._e2e_notified:
            return
        self._e2e_notified.add(room_id)
        if await self._host.get_state(STATE_E2E_NOTICE + room_id):
            return
        t = translator(None, COMMAND_PREFIX)
        notice = t(
            "<b>This room is end-to-end encrypted.</b> Encryption is switched off for this bot, so it will not "
            "see your commands here. Please talk to it in an unencrypted room or direct chat."
        )
        try:
            await self._messenger.send(room_id, OutgoingMessage(notice))
        except SendError as exc:
            self._e2e_notified.discard(room_id)  # try again on the room's next event
            log.warning("matrix: could not tell %s that encryption is off: %s", room_id, exc)
            return
        await self._host.set_state(STATE_E2E_NOTICE + room_id, "1")
