"""Channels and forum topics in the simulated Telegram world: creating them, what users and admins do
there (post in a channel, change the bot's rights, close, delete and reopen topics), and whether the bot
may send into them — answered with the errors the real Bot API gives."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from tests.telegram_server.models import StoredMessage, TgChat, TgUser
from tests.telegram_server.protocol import ApiError, Params

if TYPE_CHECKING:
    from tests.telegram_server.world import World

TOPIC_OPEN, TOPIC_CLOSED, TOPIC_DELETED = "open", "closed", "deleted"


class SpacesMixin:
    """Mixed into :class:`~tests.telegram_server.world.World` (which holds ``topics`` and ``member_rights``)."""

    # ---------------------------------------------------------------- channels

    def add_channel(self: World, chat_id: int, title: str, *, username: str | None = None) -> TgChat:
        chat = TgChat(chat_id, "channel", title=title, username=username)
        self.chats[chat_id] = chat
        return chat

    def set_bot_rights(
        self: World, chat: TgChat, *, status: str = "administrator", can_post: bool = True, by: TgUser | None = None
    ) -> None:
        """The bot's membership in a chat; with ``by`` the change is announced as a ``my_chat_member``
        update, as Telegram does when an admin adds, promotes or demotes the bot."""
        key = (chat.id, self.bot.id)
        old_status = self.members.get(key, "left")
        old_rights = dict(self.member_rights.get(key, {}))
        self.members[key] = status
        self.member_rights[key] = {"can_post_messages": can_post} if status == "administrator" else {}
        if status in ("administrator", "creator", "member"):
            self.gone_chats.pop(chat.id, None)
        if by is not None:
            self.push_update(
                "my_chat_member",
                {
                    "chat": chat.to_api(),
                    "from": by.to_api(),
                    "date": int(time.time()),
                    "old_chat_member": member_api(self.bot, old_status, old_rights),
                    "new_chat_member": member_api(self.bot, status, self.member_rights[key]),
                },
            )

    def post_in_channel(self: World, channel: TgChat, text: str) -> None:
        """An admin posts in the channel (a ``channel_post`` update, which carries no sender)."""
        message = self.new_message(channel, TgUser(channel.id, channel.title or "channel"), text=text)
        payload = message.to_api()
        payload.pop("from", None)
        payload["sender_chat"] = channel.to_api()
        self.push_update("channel_post", payload)

    # ---------------------------------------------------------------- forum topics

    def add_forum(self: World, chat_id: int, title: str) -> TgChat:
        chat = TgChat(chat_id, "supergroup", title=title, is_forum=True)
        self.chats[chat_id] = chat
        return chat

    def add_topic(self: World, forum: TgChat, thread_id: int, name: str, *, by: TgUser) -> None:
        self.topics[(forum.id, thread_id)] = TOPIC_OPEN
        self.new_message(forum, by, thread_id=thread_id, service={"forum_topic_created": _topic(name)})

    def close_topic(self: World, forum: TgChat, thread_id: int, *, by: TgUser) -> None:
        self.topics[(forum.id, thread_id)] = TOPIC_CLOSED
        notice = self.new_message(forum, by, thread_id=thread_id, service={"forum_topic_closed": {}})
        self.push_update("message", notice.to_api())

    def delete_topic(self: World, forum: TgChat, thread_id: int) -> None:
        """Deleting a topic sends no update: the bot learns of it when a send fails."""
        self.topics[(forum.id, thread_id)] = TOPIC_DELETED

    def reopen_topic(self: World, forum: TgChat, thread_id: int, *, by: TgUser) -> None:
        self.topics[(forum.id, thread_id)] = TOPIC_OPEN
        notice = self.new_message(forum, by, thread_id=thread_id, service={"forum_topic_reopened": {}})
        self.push_update("message", notice.to_api())

    def topic_bot_messages(self: World, forum: TgChat, thread_id: int | None) -> list[StoredMessage]:
        """What the bot sent into one topic (``None``: General)."""
        return [m for m in self.bot_messages(forum) if m.thread_id == thread_id]

    # ---------------------------------------------------------------- what a send may do

    def check_send(self: World, chat: TgChat, params: Params) -> int | None:
        """Raise the error a send into ``chat`` gets from Telegram; the topic it goes to, if any."""
        if chat.is_channel:
            key = (chat.id, self.bot.id)
            status = self.members.get(key, "left")
            if status in ("left", "kicked"):
                raise ApiError(403, "Forbidden: bot is not a member of the channel chat")
            if status != "creator" and not self.member_rights.get(key, {}).get("can_post_messages"):
                raise ApiError.bad_request("need administrator rights in the channel chat")
        thread_id = params.integer("message_thread_id")
        if thread_id is None or not chat.is_forum:
            return None
        state = self.topics.get((chat.id, thread_id), TOPIC_DELETED)
        if state == TOPIC_DELETED:
            raise ApiError.bad_request("message thread not found")
        if state == TOPIC_CLOSED:
            raise ApiError.bad_request("TOPIC_CLOSED")
        return thread_id

    def full_chat_api(self: World, chat: TgChat) -> dict[str, Any]:
        """``getChat``'s ChatFullInfo: the chat plus the fields the Bot API always sends."""
        data = chat.to_api()
        data.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types={
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        )
        return data


def _topic(name: str) -> dict[str, Any]:
    return {"name": name, "icon_color": 7322096}


def member_api(user: TgUser, status: str, rights: dict[str, bool] | None = None) -> dict[str, Any]:
    from tests.telegram_server.world import chat_member_api

    data = chat_member_api(user, status)
    if status == "administrator":
        data.update(rights or {})
    return data
