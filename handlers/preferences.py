"""The chat's reply language."""

from __future__ import annotations

from bot.core.i18n import LANGUAGES, Translator
from bot.core.messaging import Reply
from handlers.base import HandlerContext, command


@command("lang", manages_chat=True, usage="en|de", aliases=("language", "sprache"))
async def lang(ctx: HandlerContext) -> Reply:
    """Reply language: en or de"""
    wanted = ctx.args.lower()
    if wanted not in LANGUAGES:
        return Reply.text(
            ctx.t("Send <code>{p}lang en</code> or <code>{p}lang de</code>. Now: <b>{lang}</b>.", lang=ctx.chat.lang)
        )
    await ctx.services.chat_settings.set_lang(ctx.chat, wanted)
    # The confirmation already speaks the new language (its German entry says "Ich antworte jetzt auf Deutsch.").
    t = Translator(wanted, ctx.t.prefix)
    return Reply.text(t("I will answer in English."))
