"""The Bot API methods the test server implements, acting on the simulated :class:`World`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from tests.telegram_server.entities import ParsedText
from tests.telegram_server.models import StoredFile
from tests.telegram_server.photos import photo_sizes
from tests.telegram_server.protocol import (
    MAX_CAPTION,
    MAX_TEXT,
    ApiError,
    Params,
    commands_key,
    link_preview_disabled,
    parse_message_text,
    validated_markup,
)
from tests.telegram_server.spaces import member_api
from tests.telegram_server.world import World, document_api

Method = Callable[[Params], Awaitable[Any]]
_COMMAND_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")
MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses bigger files, like the real Bot API


class BotApiMethods:
    """``method name (lower case) → implementation``; what a call does once the send gate let it through."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0  # a newer getUpdates ends an older one with 409, as on Telegram
        self.conflicts = 0
        self.table: dict[str, Method] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "answercallbackquery": self._answer_callback_query,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getfile": self._get_file,
            "senddocument": self._send_document,
            "sendphoto": self._send_photo,
            "getchatmember": self._get_chat_member,
            "getchat": self._get_chat,
            "close": self._true,
            "logout": self._true,
        }

    async def _true(self, params: Params) -> bool:
        return True

    async def _get_me(self, params: Params) -> dict[str, Any]:
        data = self._world.bot.to_api()
        data.update(can_join_groups=True, can_read_all_group_messages=False, supports_inline_queries=False)
        return data

    async def _delete_webhook(self, params: Params) -> bool:
        if params.flag("drop_pending_updates"):
            self._world.updates.clear()
        return True

    async def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._world.updates)}

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        offset = params.integer("offset", 0) or 0
        limit = min(max(params.integer("limit", 100) or 100, 1), 100)
        timeout = max(params.integer("timeout", 0) or 0, 0)
        allowed = params.obj("allowed_updates")
        if allowed is not None:
            self._allowed_updates = list(allowed) or None  # an empty list means "all but a few", like default
        if offset > 0:
            # Confirmed updates are forgotten, the rest is delivered again until confirmed.
            self._world.updates = [u for u in self._world.updates if u["update_id"] >= offset]
        self._poll_generation += 1
        generation = self._poll_generation
        self._world.notify()  # wakes an older poll so it can see it was superseded
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                self.conflicts += 1
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            ready = [u for u in self._world.updates if u["update_id"] >= offset and self._is_allowed(u)][:limit]
            remaining = deadline - loop.time()
            if ready or remaining <= 0 or self._world.closing:
                return ready
            changed = self._world.changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return []

    def _is_allowed(self, update: dict[str, Any]) -> bool:
        if self._allowed_updates is None:
            return True
        return any(kind in update for kind in self._allowed_updates)

    async def _send_message(self, params: Params) -> dict[str, Any]:
        chat = self._world.resolve_chat(params)
        thread_id = self._world.check_send(chat, params)
        raw = params.text("text") or ""
        parse_mode = params.text("parse_mode")
        parsed = parse_message_text(raw, parse_mode, MAX_TEXT, "message text", "message is too long")
        message = self._world.new_message(
            chat,
            self._world.bot,
            text=parsed.text,
            entities=parsed.entities,
            reply_markup=validated_markup(params.obj("reply_markup")),
            reply_to=self._world.reply_target(chat, params),
            thread_id=thread_id,
        )
        message.raw_text = raw
        message.parse_mode = parse_mode
        message.link_preview_disabled = link_preview_disabled(params)
        return message.to_api()

    async def _edit_message_text(self, params: Params) -> dict[str, Any]:
        chat = self._world.resolve_chat(params)
        message_id = params.required_int("message_id")
        message = next((m for m in self._world.bot_messages(chat) if m.message_id == message_id), None)
        if message is None:
            raise ApiError.bad_request("message to edit not found")
        raw = params.text("text") or ""
        parse_mode = params.text("parse_mode")
        parsed = parse_message_text(raw, parse_mode, MAX_TEXT, "message text", "message is too long")
        markup = validated_markup(params.obj("reply_markup"))
        if parsed.text == message.text and parsed.entities == message.entities and markup == message.reply_markup:
            raise ApiError.bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same"
                " as a current content and reply markup of the message"
            )
        message.text, message.entities, message.reply_markup = parsed.text, parsed.entities, markup
        message.raw_text, message.parse_mode = raw, parse_mode
        message.link_preview_disabled = link_preview_disabled(params)
        message.edit_count += 1
        return message.to_api()

    async def _answer_callback_query(self, params: Params) -> bool:
        query_id = params.text("callback_query_id") or ""
        if query_id not in self._world.callback_queries or self._world.callback_queries[query_id] is not None:
            raise ApiError.bad_request("query is too old and response timeout expired or query ID is invalid")
        text = params.text("text")
        if text is not None and len(text) > 200:
            raise ApiError.bad_request("MESSAGE_TOO_LONG")
        self._world.callback_queries[query_id] = {
            "text": text,
            "show_alert": params.flag("show_alert"),
            "url": params.text("url"),
        }
        return True

    async def _set_my_commands(self, params: Params) -> bool:
        commands = params.obj("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError.bad_request("commands must be a list of at most 100 commands")
        for entry in commands:
            name = str(entry.get("command", ""))
            if not 1 <= len(name) <= 32 or not set(name) <= _COMMAND_CHARS:
                raise ApiError.bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(entry.get("description", ""))) <= 256:
                raise ApiError.bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._world.bot_commands[commands_key(params)] = [
            {"command": str(e["command"]), "description": str(e["description"])} for e in commands
        ]
        return True

    async def _get_my_commands(self, params: Params) -> list[dict[str, str]]:
        return self._world.bot_commands.get(commands_key(params), [])

    async def _delete_my_commands(self, params: Params) -> bool:
        self._world.bot_commands.pop(commands_key(params), None)
        return True

    async def _get_file(self, params: Params) -> dict[str, Any]:
        stored = self._world.files.get(params.text("file_id") or "")
        if stored is None:
            raise ApiError.bad_request("invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD:
            raise ApiError.bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    async def _send_document(self, params: Params) -> dict[str, Any]:
        chat = self._world.resolve_chat(params)
        stored = self._upload(params, "document", "document")
        caption = self._caption(params)
        message = self._world.new_message(
            chat,
            self._world.bot,
            document=document_api(stored, None),
            caption=caption.text if caption else None,
            caption_entities=caption.entities if caption else [],
            reply_markup=validated_markup(params.obj("reply_markup")),
        )
        return message.to_api()

    async def _send_photo(self, params: Params) -> dict[str, Any]:
        """A photo uploaded as multipart (``attach://``) or a file_id sent before; PNG or JPEG only."""
        chat = self._world.resolve_chat(params)
        thread_id = self._world.check_send(chat, params)
        stored = self._upload(params, "photo", "photo.png")
        sizes = photo_sizes(stored)
        caption = self._caption(params)
        message = self._world.new_message(
            chat,
            self._world.bot,
            photo=sizes,
            caption=caption.text if caption else None,
            caption_entities=caption.entities if caption else [],
            reply_markup=validated_markup(params.obj("reply_markup")),
            reply_to=self._world.reply_target(chat, params),
            thread_id=thread_id,
        )
        message.raw_text = params.text("caption")
        message.parse_mode = params.text("parse_mode")
        return message.to_api()

    def _upload(self, params: Params, field: str, default_name: str) -> StoredFile:
        """The file a send carries: uploaded in the request (PTB names the part after ``attach://``) or
        referenced by the file_id of an earlier upload."""
        reference = params.text(field) or ""
        part = reference.removeprefix("attach://") if reference.startswith("attach://") else field
        upload = params.files.get(part)
        if upload is not None:
            return self._world.store_file(upload.file.read(), upload.filename or default_name, upload.content_type)
        existing = self._world.files.get(reference)
        if existing is None:
            raise ApiError.bad_request("wrong file identifier/HTTP URL specified")
        return existing

    def _caption(self, params: Params) -> ParsedText | None:
        raw = params.text("caption")
        if raw is None:
            return None
        parse_mode = params.text("parse_mode")
        too_long = "message caption is too long"
        return parse_message_text(raw, parse_mode, MAX_CAPTION, "caption", too_long, allow_empty=True)

    async def _get_chat_member(self, params: Params) -> dict[str, Any]:
        chat = self._world.resolve_chat(params)
        user_id = params.required_int("user_id")
        user = self._world.bot if user_id == self._world.bot.id else self._world.users.get(user_id)
        if user is None:
            raise ApiError.bad_request("user not found")
        bot_status = self._world.members.get((chat.id, self._world.bot.id), "left")
        if chat.is_channel and user_id != self._world.bot.id and bot_status not in ("administrator", "creator"):
            raise ApiError.bad_request("member list is inaccessible")
        status = self._world.members.get((chat.id, user_id), "member")
        return member_api(user, status, self._world.member_rights.get((chat.id, user_id)))

    async def _get_chat(self, params: Params) -> dict[str, Any]:
        return self._world.full_chat_api(self._world.resolve_chat(params))
