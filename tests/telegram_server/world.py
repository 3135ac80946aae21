"""The simulated Telegram world of the test server: users, chats, messages, members and files, what the
users do (send, press buttons, block the bot, upgrade groups) and the record tests read back."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable
from typing import Any

from tests.telegram_server.models import ApiCall, StoredFile, StoredMessage, TgChat, TgUser
from tests.telegram_server.protocol import ApiError, Params
from tests.telegram_server.spaces import SpacesMixin


class World(SpacesMixin):
    """Everything the server knows; changes wake :meth:`wait_for` (and long polls) through :meth:`notify`."""

    def __init__(self, token: str, bot_username: str) -> None:
        self.token = token
        self.bot = TgUser(int(token.split(":", 1)[0]), "NewsAlert", None, bot_username, is_bot=True)
        self.closing = False  # set on stop: long polls return at once

        self.users: dict[int, TgUser] = {}
        self.chats: dict[int, TgChat] = {}
        self.messages: dict[int, list[StoredMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self.members: dict[tuple[int, int], str] = {}
        self.files: dict[str, StoredFile] = {}
        self.updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self.callback_queries: dict[str, dict[str, Any] | None] = {}
        self._next_callback_id = 1
        self.bot_commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.gone_chats: dict[int, str] = {}  # chat id -> 403 description
        self.migrated: dict[int, int] = {}
        self.topics: dict[tuple[int, int], str] = {}  # (forum id, thread id) -> open | closed | deleted
        self.member_rights: dict[tuple[int, int], dict[str, bool]] = {}  # e.g. a channel admin's can_post_messages
        self.calls: list[ApiCall] = []
        self.changed = asyncio.Event()

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
        self.members[(chat_id_of(chat), chat_id_of(user))] = status

    # ---------------------------------------------------------------- test API: users acting

    def user_sends(
        self,
        chat: TgChat,
        user: TgUser,
        text: str,
        *,
        reply_to: StoredMessage | None = None,
        thread_id: int | None = None,
    ) -> StoredMessage:
        """``thread_id``: the forum topic the user writes in (None: General, or a chat without topics)."""
        message = self.new_message(
            chat, user, text=text, entities=command_entities(text), reply_to=reply_to, thread_id=thread_id
        )
        self.push_update("message", message.to_api())
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
        stored = self.store_file(content, filename, mime_type)
        document = document_api(stored, declared_size)
        message = self.new_message(
            chat,
            user,
            document=document,
            caption=caption,
            caption_entities=command_entities(caption or ""),
        )
        self.push_update("message", message.to_api())
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
        self.callback_queries[query_id] = None
        self.push_update(
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
        self.gone_chats[chat.id] = "Forbidden: bot was blocked by the user"
        self._push_member_change(chat, user, "member", "kicked")

    def remove_bot(self, chat: TgChat, by: TgUser) -> None:
        self.gone_chats[chat.id] = "Forbidden: bot was kicked from the group chat"
        self._push_member_change(chat, by, "member", "left")

    def migrate_group(self, chat: TgChat, by: TgUser) -> TgChat:
        """Upgrade a group to a supergroup: service messages in both, the old id answers with 400 migrate."""
        new_chat = TgChat(int(f"-100{abs(chat.id)}"), "supergroup", title=chat.title)
        self.chats[new_chat.id] = new_chat
        for (chat_id, user_id), status in list(self.members.items()):
            if chat_id == chat.id:
                self.members[(new_chat.id, user_id)] = status
        self.migrated[chat.id] = new_chat.id
        old_notice = self.new_message(chat, by, service={"migrate_to_chat_id": new_chat.id})
        new_notice = self.new_message(new_chat, by, service={"migrate_from_chat_id": chat.id})
        self.push_update("message", old_notice.to_api())
        self.push_update("message", new_notice.to_api())
        return new_chat

    # ---------------------------------------------------------------- test API: reading the record

    def bot_messages(self, chat: TgChat | int) -> list[StoredMessage]:
        return [m for m in self.messages.get(chat_id_of(chat), []) if m.from_bot]

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        return self.callback_queries.get(query_id)

    def commands(self, language_code: str = "", scope: str = "default") -> list[dict[str, str]]:
        return list(self.bot_commands.get((scope, language_code), []))

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
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.5))

    async def wait_for_bot_messages(
        self, chat: TgChat | int, count: int = 1, *, within: float = 20.0
    ) -> list[StoredMessage]:
        await self.wait_for(
            lambda: len(self.bot_messages(chat)) >= count,
            within=within,
            what=f"{count} bot message(s) in chat {chat_id_of(chat)}",
        )
        return self.bot_messages(chat)

    async def wait_for_callback_answer(self, query_id: str, *, within: float = 20.0) -> dict[str, Any]:
        await self.wait_for(
            lambda: self.callback_queries.get(query_id) is not None,
            within=within,
            what=f"an answer to callback query {query_id}",
        )
        answer = self.callback_queries[query_id]
        assert answer is not None
        return answer

    def notify(self) -> None:
        # Replace the event so every waiter wakes once and later waiters block on a fresh one.
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()

    # ---------------------------------------------------------------- helpers

    def resolve_chat(self, params: Params) -> TgChat:
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

    def reply_target(self, chat: TgChat, params: Params) -> StoredMessage | None:
        reply_id = params.integer("reply_to_message_id")
        reply_parameters = params.obj("reply_parameters")
        if reply_id is None and isinstance(reply_parameters, dict):
            reply_id = int(reply_parameters.get("message_id", 0)) or None
        if reply_id is None:
            return None
        return next((m for m in self.messages.get(chat.id, []) if m.message_id == reply_id), None)

    def new_message(self, chat: TgChat, sender: TgUser, **fields: Any) -> StoredMessage:
        self.chats.setdefault(chat.id, chat)
        message_id = self._next_message_id.get(chat.id, 1)
        self._next_message_id[chat.id] = message_id + 1
        message = StoredMessage(chat=chat, message_id=message_id, date=int(time.time()), sender=sender, **fields)
        self.messages.setdefault(chat.id, []).append(message)
        if not sender.is_bot and chat.is_group:
            self.members.setdefault((chat.id, sender.id), "member")
        self.notify()
        return message

    def push_update(self, kind: str, payload: dict[str, Any]) -> None:
        self.updates.append({"update_id": self._next_update_id, kind: payload})
        self._next_update_id += 1
        self.notify()

    def _push_member_change(self, chat: TgChat, by: TgUser, old: str, new: str) -> None:
        self.members[(chat.id, self.bot.id)] = new
        self.push_update(
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": by.to_api(),
                "date": int(time.time()),
                "old_chat_member": chat_member_api(self.bot, old),
                "new_chat_member": chat_member_api(self.bot, new),
            },
        )

    def store_file(self, content: bytes, filename: str, mime_type: str | None) -> StoredFile:
        digest = hashlib.sha256(content + filename.encode()).hexdigest()
        file_id = f"BQAC{digest[:40]}{len(self.files)}"
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=f"AgAD{digest[:12]}",
            file_path=f"documents/file_{len(self.files)}_{digest[:8]}",
            content=content,
            file_name=filename,
            mime_type=mime_type,
        )
        self.files[file_id] = stored
        return stored


# -------------------------------------------------------------------- module helpers


def chat_id_of(item: TgChat | TgUser | int) -> int:
    return item if isinstance(item, int) else item.id


def document_api(stored: StoredFile, declared_size: int | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_name": stored.file_name,
        "file_size": declared_size if declared_size is not None else len(stored.content),
    }
    if stored.mime_type:
        data["mime_type"] = stored.mime_type
    return data


def command_entities(text: str) -> list[dict[str, Any]]:
    """Telegram marks ``/cmd`` and ``/cmd@bot`` at the start of the text as a bot_command entity."""
    if not text.startswith("/"):
        return []
    end = 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return [{"type": "bot_command", "offset": 0, "length": end}]


def chat_member_api(user: TgUser, status: str) -> dict[str, Any]:
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
