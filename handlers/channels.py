"""Telegram channels managed from a private chat: the channels command, and how a command naming a
channel (``/subscribe @putinwatch Putin``) is refused or answered."""

from __future__ import annotations

import html

from bot.core.i18n import N_, Translator
from bot.core.messaging import (
    TARGET_BOT_CANNOT_POST,
    TARGET_NOT_ADMIN,
    TARGET_NOT_CHANNEL,
    TARGET_NOT_FOUND,
    Button,
    OutgoingMessage,
    Reply,
    TargetCheck,
)
from bot.services.channels import channel_ref
from handlers.base import CommandSpec, HandlerContext, command

# Commands that show a chat's settings or act on what waits for it take a channel too, besides every
# command that changes a chat's settings (``manages_chat``).
SHOWS_CHAT = frozenset({"list", "digest"})

TARGET_REFUSALS = {
    TARGET_NOT_ADMIN: N_("You are not an administrator of {channel}, so you cannot manage it here."),
    TARGET_BOT_CANNOT_POST: N_(
        "I cannot post in {channel}: make me an administrator with the right to post messages, then try again."
    ),
    TARGET_NOT_FOUND: N_(
        "I cannot find {channel}. Add me to the channel as an administrator with the right to post messages, "
        "then try again."
    ),
    TARGET_NOT_CHANNEL: N_("{channel} is not a channel. A group is managed with commands sent in the group itself."),
    # TARGET_UNAVAILABLE and anything unforeseen:
    "": N_("I could not check your rights in {channel} just now. Please try again in a moment."),
}


def takes_target(spec: CommandSpec) -> bool:
    return spec.manages_chat or spec.name in SHOWS_CHAT


def for_target(reply: Reply, check: TargetCheck, t: Translator) -> Reply:
    """The handler's reply as the manager sees it in the private chat: headed with the channel's name, and
    its buttons acting on the channel again (a bare ``unsubscribe #3`` would act on the private chat)."""
    if not reply.messages:
        return reply
    header = t("Channel {channel}:", channel=f"<b>{html.escape(check.name)}</b>")
    messages = [
        OutgoingMessage(
            f"{header}\n{message.html}" if index == 0 else message.html,
            _retargeted(message.buttons, check.chat_id),
            message.link_preview,
            message.idempotency_key,
            message.image,
        )
        for index, message in enumerate(reply.messages)
    ]
    return Reply(tuple(messages))


def _retargeted(rows: tuple[tuple[Button, ...], ...], chat_id: str) -> tuple[tuple[Button, ...], ...]:
    def aimed(button: Button) -> Button:
        name, _, args = button.command.partition(" ")
        return Button(button.label, f"{name} {chat_id} {args}".rstrip())

    return tuple(tuple(aimed(button) for button in row) for row in rows)


@command("channels")
async def channels(ctx: HandlerContext) -> Reply:
    """The channels you manage through the bot"""
    managed = await ctx.services.channels.managed_by(ctx.cmd.platform, ctx.cmd.user_id)
    if not managed:
        return Reply.text(
            ctx.t(
                "You manage no channel through me yet. Add me to your channel as an administrator with the "
                "right to post messages, then send me <code>{p}subscribe @yourchannel Putin</code> here."
            )
        )
    lines = [ctx.t("<b>Channels you manage</b>:")]
    for n, chat in enumerate(managed, 1):
        subs = await ctx.services.subscriptions.list(chat)
        state = ctx.t("active") if chat.active else ctx.t("paused")
        count = ctx.t.plural("{n} subscription", "{n} subscriptions", len(subs))
        name, ref = chat.title or chat.chat_id, channel_ref(chat)
        shown = f"<b>{html.escape(name)}</b>" + ("" if ref == name else f" ({html.escape(ref)})")
        lines.append(f"{n}. {shown}: {count}, {state}")
    lines += ["", ctx.t("Manage one by naming it first, e.g. <code>{p}list @yourchannel</code>.")]
    return Reply.text("\n".join(lines))
