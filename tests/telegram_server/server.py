"""A local Telegram Bot API server for tests: real HTTP on 127.0.0.1 that python-telegram-bot talks to through
``base_url``, with a Python API to act as users, read what the bot sent and inject faults.

It runs on the caller's event loop (``async with BotApiServer() as server``), so tests drive users and the
bot in one loop and wait on the server's record instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from tests.telegram_server.entities import EntityParseError, ParsedText, parse_html
from tests.telegram_server.models import (
    SEND_METHODS,
    ApiCall,
    Fault,
    FloodWindow,
    PendingFault,
    SendAttempt,
    StoredFile,
    StoredMessage,
    TgChat,
    TgUser,
)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses bigger files, like the real Bot API
_COMMAND_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")
# Sends arriving this close to the end of a flood window still count as waiting (clock granularity).
_FLOOD_TOLERANCE = 0.01

Method = Callable[["_Params"], Awaitable[Any]]


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters or {}

    @classmethod
    def bad_request(cls, detail: str) -> ApiError:
        return cls(400, f"Bad Request: {detail}")

    @classmethod
    def from_fault(cls, fault: Fault) -> ApiError:
        return cls(fault.status, fault.description, dict(fault.parameters))


class _Params:
    """Bot API parameters as PTB sends them: form fields holding JSON for objects, or a JSON body."""

    def __init__(self, values: dict[str, Any], files: dict[str, web.FileField]) -> None:
        self.values = values
        self.files = files

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        return default if value is None else str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError.bad_request(f"invalid {name} specified") from None

    def required_int(self, name: str) -> int:
        value = self.integer(name)
        if value is None:
            raise ApiError.bad_request(f"{name} is empty")
        return value

    def obj(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise ApiError.bad_request(f"can't parse {name} JSON object") from None
        return value

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)


class BotApiServer:
    def __init__(
        self,
        token: str = "123456:TEST",
        *,
        bot_username: str = "newsalert_test_bot",
        send_rate_limit: float | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        """``send_rate_limit``: sends per second over a sliding one-second window; more get a 429."""
        self.token = token
        self.bot = TgUser(int(token.split(":", 1)[0]), "NewsAlert", None, bot_username, is_bot=True)
        self.send_rate_limit = send_rate_limit
        self._host = host
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._closing = False

        self.users: dict[int, TgUser] = {}
        self.chats: dict[int, TgChat] = {}
        self._messages: dict[int, list[StoredMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self._members: dict[tuple[int, int], str] = {}
        self._files: dict[str, StoredFile] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0  # a newer getUpdates ends an older one with 409, as on Telegram
        self.conflicts = 0
        self._callback_queries: dict[str, dict[str, Any] | None] = {}
        self._next_callback_id = 1
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._faults: deque[PendingFault] = deque()
        self._gone_chats: dict[int, str] = {}  # chat id -> 403 description
        self._migrated: dict[int, int] = {}
        self._recent_sends: deque[float] = deque()

        self.calls: list[ApiCall] = []
        self.attempts: list[SendAttempt] = []
        self.flood_windows: list[FloodWindow] = []
        self._changed = asyncio.Event()
        self._methods: dict[str, Method] = {
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
            "getchatmember": self._get_chat_member,
            "close": self._true,
            "logout": self._true,
        }

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._closing = True
        self._notify()  # long polls return at once
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def api_base_url(self) -> str:
        return f"http://{self._host}:{self._port}/bot"

    @property
    def file_base_url(self) -> str:
        return f"http://{self._host}:{self._port}/file/bot"

    # ---------------------------------------------------------------- test API: people and chats

    def add_user(
        self, user_id: int, first_name: str = "User", *, language_code: str | None = "en", username: str | None = None
    ) -> TgUser:
        user = TgUser(user_id, first_name, language_code, username)
        self.users[user_id] = user
        return user

    def private_chat(self, user: TgUser) -> TgChat:
        chat = self.chats.get(user.id) or TgChat(user.id, "private", first_name=user.first_name, username=user.username)
        self.chats[chat.id] = chat
        return chat

    def add_group(self, chat_id: int, title: str, *, supergroup: bool = False) -> TgChat:
        chat = TgChat(chat_id, "supergroup" if supergroup else "group", title=title)
        self.chats[chat_id] = chat
        return chat

    def set_member_status(self, chat: TgChat | int, user: TgUser | int, status: str) -> None:
        """``creator`` | ``administrator`` | ``member`` | ``left`` | ``kicked``."""
        if status not in ("creator", "administrator", "member", "left", "kicked"):
            raise ValueError(f"unsupported member status {status!r}")
        self._members[(_id(chat), _id(user))] = status

    # ---------------------------------------------------------------- test API: users acting

    def user_sends(
        self, chat: TgChat, user: TgUser, text: str, *, reply_to: StoredMessage | None = None
    ) -> StoredMessage:
        message = self._new_message(chat, user, text=text, entities=_command_entities(text), reply_to=reply_to)
        self._push_update("message", message.to_api())
        return message

    def user_sends_document(
        self,
        chat: TgChat,
        user: TgUser,
        *,
        filename: str,
        content: bytes,
        mime_type: str | None = "text/plain",
        caption: str | None = None,
        declared_size: int | None = None,
    ) -> StoredMessage:
        """``declared_size`` lets a test claim a big file without building it (Telegram reports the size)."""
        stored = self._store_file(content, filename, mime_type)
        document = _document_api(stored, declared_size)
        message = self._new_message(
            chat,
            user,
            document=document,
            caption=caption,
            caption_entities=_command_entities(caption or ""),
        )
        self._push_update("message", message.to_api())
        return message

    def press_button(self, chat: TgChat, user: TgUser, message: StoredMessage, label: str) -> str:
        """Press a button of a message the bot sent; returns the callback query id."""
        button = message.button(label)
        if "callback_data" not in button:
            raise ValueError(f"button {label!r} is not a callback button")
        return self.send_callback(chat, user, message, button["callback_data"])

    def send_callback(self, chat: TgChat, user: TgUser, message: StoredMessage, data: str) -> str:
        """A callback query with any data, as a modified client could send."""
        query_id = str(self._next_callback_id)
        self._next_callback_id += 1
        self._callback_queries[query_id] = None
        self._push_update(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_api(),
                "chat_instance": str(chat.id),
                "message": message.to_api(),
                "data": data,
            },
        )
        return query_id

    def block_bot(self, user: TgUser) -> None:
        """The user blocks the bot: sends to the private chat fail with 403 and the bot hears about it."""
        chat = self.private_chat(user)
        self._gone_chats[chat.id] = "Forbidden: bot was blocked by the user"
        self._push_member_change(chat, user, "member", "kicked")

    def remove_bot(self, chat: TgChat, by: TgUser) -> None:
        self._gone_chats[chat.id] = "Forbidden: bot was kicked from the group chat"
        self._push_member_change(chat, by, "member", "left")

    def migrate_group(self, chat: TgChat, by: TgUser) -> TgChat:
        """Upgrade a group to a supergroup: service messages in both, the old id answers with 400 migrate."""
        new_chat = TgChat(int(f"-100{abs(chat.id)}"), "supergroup", title=chat.title)
        self.chats[new_chat.id] = new_chat
        for (chat_id, user_id), status in list(self._members.items()):
            if chat_id == chat.id:
                self._members[(new_chat.id, user_id)] = status
        self._migrated[chat.id] = new_chat.id
        old_notice = self._new_message(chat, by, service={"migrate_to_chat_id": new_chat.id})
        new_notice = self._new_message(new_chat, by, service={"migrate_from_chat_id": chat.id})
        self._push_update("message", old_notice.to_api())
        self._push_update("message", new_notice.to_api())
        return new_chat

    def inject(self, fault: Fault, *, count: int = 1, chat: TgChat | int | None = None) -> None:
        """The next ``count`` sends (to ``chat``, or to any chat) get ``fault`` instead of being performed."""
        target = fault.parameters.get("migrate_to_chat_id")
        if target is not None and target not in self.chats:
            self.chats[target] = TgChat(target, "supergroup", title="migrated")
        self._faults.append(PendingFault(fault, count, None if chat is None else _id(chat)))

    # ---------------------------------------------------------------- test API: reading the record

    def bot_messages(self, chat: TgChat | int) -> list[StoredMessage]:
        return [m for m in self._messages.get(_id(chat), []) if m.from_bot]

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        return self._callback_queries.get(query_id)

    def commands(self, language_code: str = "", scope: str = "default") -> list[dict[str, str]]:
        return list(self._commands.get((scope, language_code), []))

    def early_sends(self) -> list[SendAttempt]:
        """Sends to a chat that arrived while that chat's flood window was still open."""
        early = []
        for attempt in self.attempts:
            for window in self.flood_windows:
                if (
                    window.chat_id in (None, attempt.chat_id)
                    and window.issued_at < attempt.arrived_at < window.ends_at - _FLOOD_TOLERANCE
                ):
                    early.append(attempt)
                    break
        return early

    async def wait_for(self, predicate: Callable[[], bool], *, within: float = 20.0, what: str = "") -> None:
        """Wait until ``predicate()`` holds, re-checking after every change the server records."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {within}s waiting for {what or predicate}")
            # A bounded wait: predicates may also depend on state outside the server.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))

    async def wait_for_bot_messages(
        self, chat: TgChat | int, count: int = 1, *, within: float = 20.0
    ) -> list[StoredMessage]:
        await self.wait_for(
            lambda: len(self.bot_messages(chat)) >= count,
            within=within,
            what=f"{count} bot message(s) in chat {_id(chat)}",
        )
        return self.bot_messages(chat)

    async def wait_for_callback_answer(self, query_id: str, *, within: float = 20.0) -> dict[str, Any]:
        await self.wait_for(
            lambda: self._callback_queries.get(query_id) is not None,
            within=within,
            what=f"an answer to callback query {query_id}",
        )
        answer = self._callback_queries[query_id]
        assert answer is not None
        return answer

    # ---------------------------------------------------------------- HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error_response(ApiError(401, "Unauthorized"))
        name = request.match_info["method"]
        arrived_at = time.monotonic()
        try:
            params = await _read_params(request)
        except ApiError as exc:
            return _error_response(exc)
        self.calls.append(ApiCall(name, dict(params.values)))
        method = self._methods.get(name.lower())
        if method is None:
            return _error_response(ApiError(404, "Not Found: method not found"))
        status = 200
        try:
            if name.lower() in SEND_METHODS:
                self._admit_send(params, arrived_at)
            result = await method(params)
        except ApiError as exc:
            status = exc.status
            return _error_response(exc)
        finally:
            if name.lower() in SEND_METHODS:
                self._record_attempt(name, params, arrived_at, status)
            self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        path = request.match_info["path"]
        self.calls.append(ApiCall("download", {"file_path": path}))
        self._notify()
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.content, content_type="application/octet-stream")
        return web.Response(status=404, text="Not Found")

    def _notify(self) -> None:
        # Replace the event so every waiter wakes once and later waiters block on a fresh one.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    # ---------------------------------------------------------------- sends: faults, floods, rate limit

    def _admit_send(self, params: _Params, now: float) -> None:
        chat_id = _chat_id_or_none(params)
        open_window = self._open_flood_window(chat_id, now)
        if open_window is not None:
            remaining = max(1, math.ceil(open_window.ends_at - now))
            raise ApiError.from_fault(Fault.flood(remaining))
        fault = self._take_fault(chat_id)
        if fault is not None:
            if fault.retry_after is not None:
                self.flood_windows.append(FloodWindow(chat_id, now, fault.retry_after))
            raise ApiError.from_fault(fault)
        if chat_id in self._migrated:
            raise ApiError.from_fault(Fault.migrated(self._migrated[chat_id]))
        if chat_id in self._gone_chats:
            raise ApiError(403, self._gone_chats[chat_id])
        self._enforce_rate(chat_id, now)

    def _open_flood_window(self, chat_id: int | None, now: float) -> FloodWindow | None:
        for window in reversed(self.flood_windows):
            if window.chat_id == chat_id and window.issued_at <= now < window.ends_at - _FLOOD_TOLERANCE:
                return window
        return None

    def _take_fault(self, chat_id: int | None) -> Fault | None:
        for pending in self._faults:
            if pending.chat_id is None or pending.chat_id == chat_id:
                pending.remaining -= 1
                if pending.remaining <= 0:
                    self._faults.remove(pending)
                return pending.fault
        return None

    def _enforce_rate(self, chat_id: int | None, now: float) -> None:
        if self.send_rate_limit is None:
            return
        while self._recent_sends and self._recent_sends[0] <= now - 1.0:
            self._recent_sends.popleft()
        if len(self._recent_sends) >= self.send_rate_limit:
            retry_after = max(1, math.ceil(self._recent_sends[0] + 1.0 - now))
            self.flood_windows.append(FloodWindow(chat_id, now, retry_after))
            raise ApiError.from_fault(Fault.flood(retry_after))
        self._recent_sends.append(now)

    def _record_attempt(self, name: str, params: _Params, arrived_at: float, status: int) -> None:
        self.attempts.append(SendAttempt(name, _chat_id_or_none(params), arrived_at, status))

    # ---------------------------------------------------------------- Bot API methods

    async def _true(self, params: _Params) -> bool:
        return True

    async def _get_me(self, params: _Params) -> dict[str, Any]:
        data = self.bot.to_api()
        data.update(can_join_groups=True, can_read_all_group_messages=False, supports_inline_queries=False)
        return data

    async def _delete_webhook(self, params: _Params) -> bool:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: _Params) -> dict[str, Any]:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    async def _get_updates(self, params: _Params) -> list[dict[str, Any]]:
        offset = params.integer("offset", 0) or 0
        limit = min(max(params.integer("limit", 100) or 100, 1), 100)
        timeout = max(params.integer("timeout", 0) or 0, 0)
        allowed = params.obj("allowed_updates")
        if allowed is not None:
            self._allowed_updates = list(allowed) or None  # an empty list means "all but a few", like default
        if offset > 0:
            # Confirmed updates are forgotten, the rest is delivered again until confirmed.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # wakes an older poll so it can see it was superseded
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                self.conflicts += 1
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            ready = [u for u in self._updates if u["update_id"] >= offset and self._is_allowed(u)][:limit]
            remaining = deadline - loop.time()
            if ready or remaining <= 0 or self._closing:
                return ready
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return []

    def _is_allowed(self, update: dict[str, Any]) -> bool:
        if self._allowed_updates is None:
            return True
        return any(kind in update for kind in self._allowed_updates)

    async def _send_message(self, params: _Params) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        raw = params.text("text") or ""
        parse_mode = params.text("parse_mode")
        parsed = _parse_message_text(raw, parse_mode, MAX_TEXT, "message text", "message is too long")
        message = self._new_message(
            chat,
            self.bot,
            text=parsed.text,
            entities=parsed.entities,
            reply_markup=_validated_markup(params.obj("reply_markup")),
            reply_to=self._reply_target(chat, params),
        )
        message.raw_text = raw
        message.parse_mode = parse_mode
        message.link_preview_disabled = _link_preview_disabled(params)
        return message.to_api()

    async def _edit_message_text(self, params: _Params) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        message_id = params.required_int("message_id")
        message = next((m for m in self.bot_messages(chat) if m.message_id == message_id), None)
        if message is None:
            raise ApiError.bad_request("message to edit not found")
        raw = params.text("text") or ""
        parse_mode = params.text("parse_mode")
        parsed = _parse_message_text(raw, parse_mode, MAX_TEXT, "message text", "message is too long")
        markup = _validated_markup(params.obj("reply_markup"))
        if parsed.text == message.text and parsed.entities == message.entities and markup == message.reply_markup:
            raise ApiError.bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same"
                " as a current content and reply markup of the message"
            )
        message.text, message.entities, message.reply_markup = parsed.text, parsed.entities, markup
        message.raw_text, message.parse_mode = raw, parse_mode
        message.link_preview_disabled = _link_preview_disabled(params)
        message.edit_count += 1
        return message.to_api()

    async def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.text("callback_query_id") or ""
        if query_id not in self._callback_queries or self._callback_queries[query_id] is not None:
            raise ApiError.bad_request("query is too old and response timeout expired or query ID is invalid")
        text = params.text("text")
        if text is not None and len(text) > 200:
            raise ApiError.bad_request("MESSAGE_TOO_LONG")
        self._callback_queries[query_id] = {
            "text": text,
            "show_alert": params.flag("show_alert"),
            "url": params.text("url"),
        }
        return True

    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.obj("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError.bad_request("commands must be a list of at most 100 commands")
        for entry in commands:
            name = str(entry.get("command", ""))
            if not 1 <= len(name) <= 32 or not set(name) <= _COMMAND_CHARS:
                raise ApiError.bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(entry.get("description", ""))) <= 256:
                raise ApiError.bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[_commands_key(params)] = [
            {"command": str(e["command"]), "description": str(e["description"])} for e in commands
        ]
        return True

    async def _get_my_commands(self, params: _Params) -> list[dict[str, str]]:
        return self._commands.get(_commands_key(params), [])

    async def _delete_my_commands(self, params: _Params) -> bool:
        self._commands.pop(_commands_key(params), None)
        return True

    async def _get_file(self, params: _Params) -> dict[str, Any]:
        stored = self._files.get(params.text("file_id") or "")
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

    async def _send_document(self, params: _Params) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        upload = params.files.get("document")
        if upload is not None:
            stored = self._store_file(upload.file.read(), upload.filename or "document", upload.content_type)
        else:
            existing = self._files.get(params.text("document") or "")
            if existing is None:
                raise ApiError.bad_request("wrong file identifier/HTTP URL specified")
            stored = existing
        caption_raw = params.text("caption")
        caption = None
        if caption_raw is not None:
            caption = _parse_message_text(
                caption_raw,
                params.text("parse_mode"),
                MAX_CAPTION,
                "caption",
                "message caption is too long",
                allow_empty=True,
            )
        message = self._new_message(
            chat,
            self.bot,
            document=_document_api(stored, None),
            caption=caption.text if caption else None,
            caption_entities=caption.entities if caption else [],
            reply_markup=_validated_markup(params.obj("reply_markup")),
        )
        return message.to_api()

    async def _get_chat_member(self, params: _Params) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        user_id = params.required_int("user_id")
        user = self.bot if user_id == self.bot.id else self.users.get(user_id)
        if user is None:
            raise ApiError.bad_request("user not found")
        status = self._members.get((chat.id, user_id), "member")
        return _chat_member_api(user, status)

    # ---------------------------------------------------------------- helpers

    def _resolve_chat(self, params: _Params) -> TgChat:
        raw = params.raw("chat_id")
        if raw is None or raw == "":
            raise ApiError.bad_request("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            chat = next((c for c in self.chats.values() if c.username and f"@{c.username}" == raw), None)
        else:
            chat = self.chats.get(params.required_int("chat_id"))
        if chat is None:
            raise ApiError.bad_request("chat not found")
        return chat

    def _reply_target(self, chat: TgChat, params: _Params) -> StoredMessage | None:
        reply_id = params.integer("reply_to_message_id")
        reply_parameters = params.obj("reply_parameters")
        if reply_id is None and isinstance(reply_parameters, dict):
            reply_id = int(reply_parameters.get("message_id", 0)) or None
        if reply_id is None:
            return None
        return next((m for m in self._messages.get(chat.id, []) if m.message_id == reply_id), None)

    def _new_message(self, chat: TgChat, sender: TgUser, **fields: Any) -> StoredMessage:
        self.chats.setdefault(chat.id, chat)
        message_id = self._next_message_id.get(chat.id, 1)
        self._next_message_id[chat.id] = message_id + 1
        message = StoredMessage(chat=chat, message_id=message_id, date=int(time.time()), sender=sender, **fields)
        self._messages.setdefault(chat.id, []).append(message)
        if not sender.is_bot and chat.is_group:
            self._members.setdefault((chat.id, sender.id), "member")
        self._notify()
        return message

    def _push_update(self, kind: str, payload: dict[str, Any]) -> None:
        self._updates.append({"update_id": self._next_update_id, kind: payload})
        self._next_update_id += 1
        self._notify()

    def _push_member_change(self, chat: TgChat, by: TgUser, old: str, new: str) -> None:
        self._members[(chat.id, self.bot.id)] = new
        self._push_update(
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": by.to_api(),
                "date": int(time.time()),
                "old_chat_member": _chat_member_api(self.bot, old),
                "new_chat_member": _chat_member_api(self.bot, new),
            },
        )

    def _store_file(self, content: bytes, filename: str, mime_type: str | None) -> StoredFile:
        digest = hashlib.sha256(content + filename.encode()).hexdigest()
        file_id = f"BQAC{digest[:40]}{len(self._files)}"
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=f"AgAD{digest[:12]}",
            file_path=f"documents/file_{len(self._files)}_{digest[:8]}",
            content=content,
            file_name=filename,
            mime_type=mime_type,
        )
        self._files[file_id] = stored
        return stored


# -------------------------------------------------------------------- module helpers


def _id(item: TgChat | TgUser | int) -> int:
    return item if isinstance(item, int) else item.id


def _error_response(exc: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
    if exc.parameters:
        body["parameters"] = exc.parameters
    return web.json_response(body, status=exc.status)


async def _read_params(request: web.Request) -> _Params:
    values: dict[str, Any] = dict(request.query)
    files: dict[str, web.FileField] = {}
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise ApiError.bad_request("can't parse JSON body") from None
        if isinstance(body, dict):
            values.update(body)
    elif request.can_read_body:
        form: MultiDictProxy[Any] = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = value
            else:
                values[key] = value
    return _Params(values, files)


def _chat_id_or_none(params: _Params) -> int | None:
    try:
        return params.integer("chat_id")
    except ApiError:
        return None


def _parse_message_text(
    raw: str, parse_mode: str | None, limit: int, what: str, too_long: str, *, allow_empty: bool = False
) -> ParsedText:
    if parse_mode is None or parse_mode == "":
        parsed = ParsedText(raw)
    elif parse_mode.upper() == "HTML":
        try:
            parsed = parse_html(raw)
        except EntityParseError as exc:
            raise ApiError.bad_request(str(exc)) from None
    else:
        raise ApiError.bad_request(f"unsupported parse_mode {parse_mode!r} (the test server speaks HTML only)")
    if not allow_empty and not parsed.text.strip():
        raise ApiError.bad_request(f"{what} is empty")
    if len(parsed.text) > limit:
        raise ApiError.bad_request(too_long)
    return parsed


def _validated_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError.bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError.bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for row in rows:
        for button in row:
            _validate_button(button)
    return markup


def _validate_button(button: Any) -> None:
    if not isinstance(button, dict) or not str(button.get("text", "")).strip():
        raise ApiError.bad_request("can't parse inline keyboard button: Text must be non-empty")
    actions = {"callback_data", "url", "switch_inline_query", "copy_text", "web_app", "login_url", "pay"}
    if not actions & button.keys():
        raise ApiError.bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        size = len(str(button["callback_data"]).encode("utf-8"))
        if not 1 <= size <= MAX_CALLBACK_DATA:
            raise ApiError.bad_request("BUTTON_DATA_INVALID")


def _link_preview_disabled(params: _Params) -> bool:
    options = params.obj("link_preview_options")
    if isinstance(options, dict) and "is_disabled" in options:
        return bool(options["is_disabled"])
    return params.flag("disable_web_page_preview")


def _commands_key(params: _Params) -> tuple[str, str]:
    scope = params.obj("scope")
    scope_type = scope.get("type", "default") if isinstance(scope, dict) else "default"
    return scope_type, params.text("language_code") or ""


def _document_api(stored: StoredFile, declared_size: int | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_name": stored.file_name,
        "file_size": declared_size if declared_size is not None else len(stored.content),
    }
    if stored.mime_type:
        data["mime_type"] = stored.mime_type
    return data


def _command_entities(text: str) -> list[dict[str, Any]]:
    """Telegram marks ``/cmd`` and ``/cmd@bot`` at the start of the text as a bot_command entity."""
    if not text.startswith("/"):
        return []
    end = 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return [{"type": "bot_command", "offset": 0, "length": end}]


def _chat_member_api(user: TgUser, status: str) -> dict[str, Any]:
    data: dict[str, Any] = {"status": status, "user": user.to_api()}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(
            {name: True for name in _ADMIN_RIGHTS},
            can_be_edited=False,
            is_anonymous=False,
        )
    elif status == "kicked":
        data["until_date"] = 0
    return data


_ADMIN_RIGHTS: tuple[str, ...] = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)
