"""Greeting and help."""

from __future__ import annotations

import html

from bot.core.messaging import Reply
from handlers.base import HandlerContext, command


@command("start")
async def start(ctx: HandlerContext) -> Reply:
    """Introduction"""
    return Reply.text(
        ctx.t(
            "<b>newsalert</b> sends you short summaries of new articles about the people, places and topics you "
            "follow — in English or German, whatever language the articles are in.\n"
            "Try <code>{p}subscribe Putin</code>, <code>{p}subscribe arms deal</code> or "
            '<code>{p}subscribe "North Korea" -sport</code>, then <code>{p}list</code>. '
            "<code>{p}help</code> lists all commands."
        )
    )


@command("help")
async def help_(ctx: HandlerContext) -> Reply:
    """This list of commands"""
    registry = ctx.registry
    lines, admin_lines = [ctx.t("<b>Commands</b>")], [ctx.t("<b>Admin commands</b>")]
    for spec in registry.ordered:
        usage = f" {spec.usage}" if spec.usage else ""
        name = f"{ctx.t.prefix}{spec.name}{html.escape(usage, quote=False)}"
        line = f"<code>{name}</code> — {registry.help_line(spec, ctx.t)}"
        (admin_lines if spec.admin_only else lines).append(line)
    if ctx.cmd.is_bot_admin:
        lines += ["", *admin_lines]
    if ctx.cmd.is_group:
        lines += ["", ctx.t("In groups, only chat admins change subscriptions and settings.")]
    return Reply.text("\n".join(lines))
