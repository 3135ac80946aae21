"""Records the fake Bot API server keeps: users, chats, messages, faults and what the bot asked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEND_METHODS = frozenset({"sendmessage", "senddocument", "sendphoto", "editmessagetext"})


@dataclass(frozen=True, slots=True)
class TgUser:
    id: int
    first_name: str
    language_code: str | None = "en"
    username: str | None = None
    is_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass(frozen=True, slots=True)
class TgChat:
    id: int
    type: str  # private | group | supergroup | channel
    title: str | None = None
    first_name: str | None = None
    username: str | None = None
    is_forum: bool = False  # a supergroup organised in topics

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    @property
    def is_channel(self) -> bool:
        return self.type == "channel"

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.title:
            data["title"] = self.title
        if self.first_name:
            data["first_name"] = self.first_name
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass(slots=True)
class StoredMessage:
    """One message in a chat, from a user or from the bot (its current version after edits)."""

    chat: TgChat
    message_id: int
    date: int
    sender: TgUser
    text: str | None = None  # plain text after entity parsing
    entities: list[dict[str, Any]] = field(default_factory=list)
    raw_text: str | None = None  # what the bot sent, before parsing (HTML source)
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    link_preview_disabled: bool | None = None
    document: dict[str, Any] | None = None
    photo: list[dict[str, Any]] | None = None  # PhotoSize objects, largest last
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_to: StoredMessage | None = None
    service: dict[str, Any] = field(default_factory=dict)  # e.g. {"migrate_to_chat_id": -100…}
    edit_count: int = 0
    thread_id: int | None = None  # the forum topic it was written in (None: General or no forum)

    @property
    def from_bot(self) -> bool:
        return self.sender.is_bot

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        if not self.reply_markup:
            return []
        return list(self.reply_markup.get("inline_keyboard", []))

    @property
    def button_labels(self) -> list[str]:
        return [button["text"] for row in self.buttons for button in row]

    def button(self, label: str) -> dict[str, Any]:
        for row in self.buttons:
            for button in row:
                if button["text"] == label:
                    return button
        raise KeyError(f"no button {label!r}; have {self.button_labels}")

    def to_api(self, *, with_reply: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": self.chat.to_api(),
            "from": self.sender.to_api(),
        }
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.document is not None:
            data["document"] = self.document
        if self.photo is not None:
            data["photo"] = self.photo
        if self.caption is not None:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = self.caption_entities
        if self.reply_markup:
            data["reply_markup"] = self.reply_markup
        if with_reply and self.reply_to is not None:
            data["reply_to_message"] = self.reply_to.to_api(with_reply=False)
        if self.edit_count:
            data["edit_date"] = self.date
        if self.thread_id is not None:
            data["message_thread_id"] = self.thread_id
            data["is_topic_message"] = True
        data.update(self.service)
        return data


@dataclass(frozen=True, slots=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str
    mime_type: str | None


@dataclass(frozen=True, slots=True)
class Fault:
    """An error the server answers instead of performing a send."""

    status: int
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def flood(cls, retry_after: int = 1) -> Fault:
        return cls(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})

    @classmethod
    def blocked(cls) -> Fault:
        return cls(403, "Forbidden: bot was blocked by the user")

    @classmethod
    def migrated(cls, new_chat_id: int) -> Fault:
        return cls(
            400, "Bad Request: group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": new_chat_id}
        )

    @classmethod
    def bad_gateway(cls) -> Fault:
        return cls(502, "Bad Gateway")

    @property
    def retry_after(self) -> int | None:
        value = self.parameters.get("retry_after")
        return int(value) if value is not None else None


@dataclass(slots=True)
class PendingFault:
    fault: Fault
    remaining: int
    chat_id: int | None  # None: any chat


@dataclass(frozen=True, slots=True)
class SendAttempt:
    """Every send the bot made, with the server's answer: the record behind "waits as told"."""

    method: str
    chat_id: int | None
    arrived_at: float  # time.monotonic()
    status: int  # 200 or the error code answered
    paid: bool = False  # sent with allow_paid_broadcast


@dataclass(frozen=True, slots=True)
class FloodWindow:
    chat_id: int | None
    issued_at: float
    retry_after: int

    @property
    def ends_at(self) -> float:
        return self.issued_at + self.retry_after


@dataclass(frozen=True, slots=True)
class ApiCall:
    method: str  # as the Bot API names it, e.g. "sendMessage"; file downloads are "download"
    params: dict[str, Any]
