"""Reading the archive: latest and search."""

from __future__ import annotations

import html

from bot.core.messaging import Reply
from bot.services.subscriptions import SubscriptionRefused
from handlers.base import HandlerContext, command
from handlers.format import article_card, article_line

LATEST_COUNT = 3
SEARCH_COUNT = 10

TEXTS = {
    "en": {
        "help.latest": "Newest articles in the archive (optionally only those matching a query)",
        "help.search": "Full-text search of the archive, newest first",
        "latest.empty": "The archive is empty.",
        "latest.none": "No article in the archive matches <b>{query}</b>.",
        "search.usage": "What should I look for? e.g. <code>/search Wladiwostok</code>",
        "search.none": "Nothing in the archive contains <b>{query}</b>.",
        "search.title": "<b>{count} result(s) for {query}</b>, newest first:",
    },
    "de": {
        "help.latest": "Neueste Artikel im Archiv (optional nur passende)",
        "help.search": "Volltextsuche im Archiv, neueste zuerst",
        "latest.empty": "Das Archiv ist leer.",
        "latest.none": "Kein Artikel im Archiv passt zu <b>{query}</b>.",
        "search.usage": "Wonach soll ich suchen? z. B. <code>/search Wladiwostok</code>",
        "search.none": "Nichts im Archiv enthält <b>{query}</b>.",
        "search.title": "<b>{count} Treffer für {query}</b>, neueste zuerst:",
    },
}


@command("latest", usage="[query]")
async def latest(ctx: HandlerContext) -> Reply:
    """Newest articles in the archive (optionally only those matching a query)"""
    services = ctx.services
    if ctx.args:
        try:
            articles = await services.subscriptions.find(ctx.args, limit=LATEST_COUNT)
        except SubscriptionRefused as refusal:
            return Reply.text(ctx.t(refusal.key, **{k: html.escape(str(v)) for k, v in refusal.values.items()}))
        if not articles:
            return Reply.text(ctx.t("latest.none", query=html.escape(ctx.args)))
    else:
        articles = await services.storage.articles.latest(LATEST_COUNT)
        if not articles:
            return Reply.text(ctx.t("latest.empty"))
    cards = [article_card(a, await services.delivery.bullets(a, ctx.args or None), ctx.chat.lang) for a in articles]
    return Reply.text("\n\n".join(cards))


@command("search", usage="<words>")
async def search(ctx: HandlerContext) -> Reply:
    """Full-text search of the archive, newest first"""
    if not ctx.args:
        return Reply.text(ctx.t("search.usage"))
    found = await ctx.services.storage.articles.search(ctx.args[:200], SEARCH_COUNT)
    query = html.escape(ctx.args[:200])
    if not found:
        return Reply.text(ctx.t("search.none", query=query))
    lines = [ctx.t("search.title", count=len(found), query=query)]
    lines += [article_line(n, a, ctx.chat.lang) for n, a in enumerate(found, 1)]
    return Reply.text("\n".join(lines))
