"""The chat's reply language."""

from __future__ import annotations

from bot.core.messaging import Reply
from handlers.base import HandlerContext, command

LANGS = ("en", "de")

TEXTS = {
    "en": {
        "help.lang": "Reply language: en or de",
        "lang.usage": "Send <code>/lang en</code> or <code>/lang de</code>. Now: <b>{lang}</b>.",
        "lang.ok": "I will answer in English.",
    },
    "de": {
        "help.lang": "Antwortsprache: en oder de",
        "lang.usage": "Sende <code>/lang en</code> oder <code>/lang de</code>. Jetzt: <b>{lang}</b>.",
        "lang.ok": "Ich antworte jetzt auf Deutsch.",
    },
}


@command("lang", manages_chat=True, usage="en|de", aliases=("language", "sprache"))
async def lang(ctx: HandlerContext) -> Reply:
    """Reply language: en or de"""
    wanted = ctx.args.lower()
    if wanted not in LANGS:
        return Reply.text(ctx.t("lang.usage", lang=ctx.chat.lang))
    await ctx.services.storage.chats.update(ctx.chat.id, lang=wanted)
    t = ctx.extra["registry"].translator(wanted)
    return Reply.text(t("lang.ok"))
