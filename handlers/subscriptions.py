"""Following people, places and topics: subscribe, unsubscribe, list."""

from __future__ import annotations

import html

from bot.core.messaging import Button, Reply
from bot.services.subscriptions import SubscriptionRefused
from handlers.base import HandlerContext, command
from handlers.format import article_card


def refused(ctx: HandlerContext, refusal: SubscriptionRefused) -> Reply:
    """The service's refusal in the chat's language (its message is marked with ``N_`` where raised)."""
    values = {k: html.escape(str(v)) for k, v in refusal.values.items()}
    return Reply.text(ctx.t(refusal.message, **values))


@command("subscribe", manages_chat=True, usage="<query>", aliases=("sub",))
async def subscribe(ctx: HandlerContext) -> Reply:
    """Follow a person, place or topic (AND, OR, -word, "phrases" work)"""
    if not ctx.args:
        return Reply.text(
            ctx.t(
                "Tell me what to follow, e.g. <code>{p}subscribe Putin</code> or "
                '<code>{p}subscribe "arms deal" -Ukraine</code>.'
            )
        )
    service = ctx.services.subscriptions
    try:
        resolution = service.resolve(ctx.args, ctx.chat.lang)
        if resolution.candidates and _single_term(ctx.args):
            buttons = tuple((Button(c, f"subscribe {c}"),) for c in resolution.candidates[:6])
            query = html.escape(ctx.args)
            return Reply.text(ctx.t("<b>{query}</b> can mean several things. Pick one:", query=query), buttons)
        done = await service.subscribe(ctx.chat, ctx.args)
    except SubscriptionRefused as refusal:
        return refused(ctx, refusal)
    query = done.subscription.query
    description = html.escape(done.resolution.description)
    lines = [
        ctx.t(
            "Subscribed: <b>{query}</b>\nUnderstood as: {description}",
            query=html.escape(query),
            description=description,
        )
    ]
    if done.newest is not None:
        bullets = await ctx.services.summaries.bullets(done.newest, query)
        lines += [
            "",
            ctx.t("Newest matching article in the archive:"),
            article_card(done.newest, bullets, ctx.chat.lang),
        ]
    else:
        lines += ["", ctx.t("No article in the archive matches yet; you will get an alert when one arrives.")]
    undo = ((Button(ctx.t("Undo"), f"unsubscribe #{done.subscription.id}"),),)
    return Reply.text("\n".join(lines), undo)


@command("unsubscribe", manages_chat=True, usage="<query|number>", aliases=("unsub",))
async def unsubscribe(ctx: HandlerContext) -> Reply:
    """Stop following (the query or its number in {p}list)"""
    if not ctx.args:
        return Reply.text(
            ctx.t(
                "Which one? Send <code>{p}unsubscribe 2</code> or <code>{p}unsubscribe Putin</code>; "
                "{p}list shows the numbers."
            )
        )
    try:
        removed = await ctx.services.subscriptions.unsubscribe(ctx.chat, ctx.args)
    except SubscriptionRefused as refusal:
        return refused(ctx, refusal)
    undo = ((Button(ctx.t("Undo"), f"subscribe {removed.query}"),),)
    text = ctx.t(
        "Unsubscribed: <b>{query}</b>. Alerts for it that are still waiting will not be sent.",
        query=html.escape(removed.query),
    )
    return Reply.text(text, undo)


@command("list")
async def list_(ctx: HandlerContext) -> Reply:
    """Your subscriptions"""
    subs = await ctx.services.subscriptions.list(ctx.chat)
    if not subs:
        return Reply.text(ctx.t("This chat follows nothing yet. Try <code>{p}subscribe Putin</code>."))
    lines = [ctx.t("<b>This chat follows</b> (delivery: {mode}):", mode=ctx.chat.mode.value)]
    lines += [f"{n}. {html.escape(s.query)}" for n, s in enumerate(subs, 1)]
    buttons = tuple(
        (Button(ctx.t("✕ {n}. {query}", n=n, query=s.query[:40]), f"unsubscribe #{s.id}"),)
        for n, s in enumerate(subs, 1)
    )
    return Reply.text("\n".join(lines), buttons)


def _single_term(query: str) -> bool:
    """Candidate buttons replace the whole query, so they are offered only for a bare name ("Kim"); in a
    boolean query the description already says what else the name could mean."""
    words = query.replace("(", " ( ").replace(")", " ) ").split()
    return not any(w.upper() in _OPERATORS or w.startswith("-") for w in words)


_OPERATORS = {"AND", "OR", "NOT", "UND", "ODER", "NICHT", "(", ")"}
