"""The dispatcher with a chat named in a command (a channel managed from a private chat), through a fake
platform: the check runs first, a refusal stores nothing, replies and their buttons are aimed at the channel,
and commands that take no channel leave their arguments alone."""

from __future__ import annotations

from dataclasses import replace

from bot.app import App
from bot.core.messaging import (
    TARGET_NOT_ADMIN,
    TARGET_UNAVAILABLE,
    ChatTarget,
    IncomingCommand,
    TargetCheck,
)
from bot.core.models import ChatKey
from tests.fakes import command

CHANNEL = "-1001"


def with_target(text: str, refusal: str | None = None, *, calls: list[str] | None = None) -> IncomingCommand:
    """``/subscribe @desk Putin`` from a private chat of the fake platform, the channel's check answering
    ``refusal``; ``calls`` records each check."""
    name, _, rest = text.lstrip("/").partition(" ")
    ref, _, args = rest.partition(" ")

    async def check() -> TargetCheck:
        if calls is not None:
            calls.append(ref)
        return TargetCheck(CHANNEL, ref, refusal)

    return replace(command(f"/{name} {rest}", chat_id="u1", user_id="u1"), target=ChatTarget(ref, args, check))


async def channel_queries(app: App) -> list[str] | None:
    chat = await app.services.chats.find(ChatKey("fake", CHANNEL))
    return None if chat is None else [s.query for s in await app.services.subscriptions.list(chat)]


async def test_a_checked_channel_is_subscribed_and_the_reply_names_it(app: App) -> None:
    reply = await app.handle(with_target("/subscribe @desk Putin"))
    [message] = reply.messages
    assert message.html.startswith("Channel <b>@desk</b>:\nSubscribed: <b>Putin</b>")
    [[undo]] = message.buttons
    assert undo.command.startswith(f"unsubscribe {CHANNEL} #")  # the button acts on the channel again
    assert await channel_queries(app) == ["Putin"]
    assert await app.services.chats.find(ChatKey("fake", "u1")) is None  # the private chat stays untouched
    [managed] = await app.services.channels.managed_by("fake", "u1")
    assert managed.chat_id == CHANNEL and managed.is_group


async def test_a_refused_check_stores_nothing(app: App) -> None:
    for refusal, start in ((TARGET_NOT_ADMIN, "You are not an administrator"), (TARGET_UNAVAILABLE, "I could not")):
        reply = await app.handle(with_target("/subscribe @desk Putin", refusal))
        assert reply.messages[0].html.startswith(start)
    assert await channel_queries(app) is None
    assert await app.services.channels.managed_by("fake", "u1") == []


async def test_a_failing_check_is_an_apology_not_a_traceback(app: App) -> None:
    async def broken() -> TargetCheck:
        raise RuntimeError("platform exploded")

    cmd = replace(command("/list @desk", chat_id="u1", user_id="u1"), target=ChatTarget("@desk", "", broken))
    reply = await app.handle(cmd)
    assert reply.messages[0].html.startswith("Sorry, something went wrong while handling /list")
    assert await channel_queries(app) is None


async def test_commands_without_a_channel_keep_their_arguments_and_check_nothing(app: App) -> None:
    calls: list[str] = []
    reply = await app.handle(with_target("/search @desk Putin", calls=calls))
    assert calls == []
    assert not reply.messages[0].html.startswith("Channel")
    await app.handle(with_target("/list @desk", calls=calls))
    await app.handle(with_target("/mode @desk daily 07:00", calls=calls))
    assert calls == ["@desk", "@desk"]  # asked at every command, nothing cached
    chat = await app.services.chats.find(ChatKey("fake", CHANNEL))
    assert chat is not None and chat.digest_time == "07:00"
