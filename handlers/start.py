"""Greeting and help."""

from __future__ import annotations

import html

from bot.core.messaging import Reply
from handlers.base import HandlerContext, command

TEXTS = {
    "en": {
        "start.hello": "<b>newsalert</b> sends you short summaries of new articles about the people, places and "
        "topics you follow — in English or German, whatever language the articles are in.\n"
        "Try <code>/subscribe Putin</code>, <code>/subscribe arms deal</code> or "
        '<code>/subscribe "North Korea" -sport</code>, then <code>/list</code>. <code>/help</code> lists all commands.',
        "help.title": "<b>Commands</b>",
        "help.admin": "<b>Admin commands</b>",
        "help.prefix_note": "In groups, only chat admins change subscriptions and settings.",
        "help.start": "Introduction",
        "help.help": "This list of commands",
    },
    "de": {
        "start.hello": "<b>newsalert</b> schickt kurze Zusammenfassungen neuer Artikel über Personen, Orte und "
        "Themen, denen du folgst — auf Deutsch oder Englisch, egal in welcher Sprache die Artikel sind.\n"
        "Probier <code>/subscribe Putin</code>, <code>/subscribe Waffendeal</code> oder "
        "<code>/subscribe Nordkorea -Sport</code>, dann <code>/list</code>. <code>/help</code> zeigt alle Befehle.",
        "help.title": "<b>Befehle</b>",
        "help.admin": "<b>Admin-Befehle</b>",
        "help.prefix_note": "In Gruppen ändern nur Gruppen-Admins Abos und Einstellungen.",
        "help.start": "Einführung",
        "help.help": "Diese Befehlsliste",
    },
}


@command("start")
async def start(ctx: HandlerContext) -> Reply:
    """Introduction"""
    return Reply.text(ctx.t("start.hello"))


@command("help")
async def help_(ctx: HandlerContext) -> Reply:
    """This list of commands"""
    registry = ctx.extra["registry"]
    prefix = "!" if ctx.cmd.platform == "matrix" else "/"
    lines, admin_lines = [ctx.t("help.title")], [ctx.t("help.admin")]
    for spec in registry.ordered:
        usage = f" {spec.usage}" if spec.usage else ""
        name = f"{prefix}{spec.name}{html.escape(usage, quote=False)}"
        line = f"<code>{name}</code> — {registry.help_line(spec, ctx.chat.lang)}"
        (admin_lines if spec.admin_only else lines).append(line)
    if ctx.cmd.is_bot_admin:
        lines += ["", *admin_lines]
    if ctx.cmd.is_group:
        lines += ["", ctx.t("help.prefix_note")]
    return Reply.text("\n".join(lines))
