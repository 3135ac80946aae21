"""Reading the archive: latest and search."""

from __future__ import annotations

import html

from bot.core.messaging import Reply
from bot.services.subscriptions import SubscriptionRefused
from handlers.base import HandlerContext, command
from handlers.format import article_card, article_line
from handlers.subscriptions import refused

LATEST_COUNT = 3
SEARCH_COUNT = 10
MAX_QUERY_ECHO = 200


@command("latest", usage="[query]")
async def latest(ctx: HandlerContext) -> Reply:
    """Newest articles in the archive (optionally only those matching a query)"""
    services = ctx.services
    if ctx.args:
        try:
            articles = await services.subscriptions.find(ctx.args, limit=LATEST_COUNT)
        except SubscriptionRefused as refusal:
            return refused(ctx, refusal)
        if not articles:
            return Reply.text(ctx.t("No article in the archive matches <b>{query}</b>.", query=html.escape(ctx.args)))
    else:
        articles = await services.archive.latest(LATEST_COUNT)
        if not articles:
            return Reply.text(ctx.t("The archive is empty."))
    focus = ctx.args or None
    cards = [article_card(a, await services.summaries.bullets(a, focus), ctx.chat.lang) for a in articles]
    return Reply.text("\n\n".join(cards))


@command("search", usage="<words>")
async def search(ctx: HandlerContext) -> Reply:
    """Full-text search of the archive, newest first"""
    if not ctx.args:
        return Reply.text(ctx.t("What should I look for? e.g. <code>{p}search Wladiwostok</code>"))
    found = await ctx.services.archive.search(ctx.args, SEARCH_COUNT)
    query = html.escape(ctx.args[:MAX_QUERY_ECHO])
    if not found:
        return Reply.text(ctx.t("Nothing in the archive contains <b>{query}</b>.", query=query))
    title = ctx.t.plural(
        "<b>{n} result for {query}</b>, newest first:",
        "<b>{n} results for {query}</b>, newest first:",
        len(found),
        query=query,
    )
    lines = [title, *(article_line(n, a, ctx.chat.lang) for n, a in enumerate(found, 1))]
    return Reply.text("\n".join(lines))
