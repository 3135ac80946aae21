"""Following people, places and topics: subscribe, unsubscribe, list."""

from __future__ import annotations

import html

from bot.core.messaging import Button, Reply
from bot.services.subscriptions import SubscriptionRefused
from handlers.base import HandlerContext, command
from handlers.format import article_card

TEXTS = {
    "en": {
        "help.subscribe": 'Follow a person, place or topic (AND, OR, -word, "phrases" work)',
        "help.unsubscribe": "Stop following (the query or its number in /list)",
        "help.list": "Your subscriptions",
        "sub.usage": "Tell me what to follow, e.g. <code>/subscribe Putin</code> or "
        '<code>/subscribe "arms deal" -Ukraine</code>.',
        "sub.empty": "The query is empty.",
        "sub.too_long": "That query is {length} characters long; the limit is {limit}.",
        "sub.bad_query": "I could not understand that query: {error}",
        "sub.limit": "This chat already follows {limit} queries, the maximum. Remove one with /unsubscribe first.",
        "sub.duplicate": "This chat already follows <b>{query}</b>.",
        "sub.ok": "Subscribed: <b>{query}</b>\nUnderstood as: {description}",
        "sub.ambiguous": "<b>{query}</b> can mean several things. Pick one:",
        "sub.newest": "Newest matching article in the archive:",
        "sub.none_yet": "No article in the archive matches yet; you will get an alert when one arrives.",
        "sub.undo": "Undo",
        "unsub.usage": "Which one? Send <code>/unsubscribe 2</code> or <code>/unsubscribe Putin</code>; "
        "/list shows the numbers.",
        "unsub.empty": "Which one? /list shows the numbers.",
        "unsub.unknown": "This chat does not follow <b>{what}</b>. /list shows what it follows.",
        "unsub.ok": "Unsubscribed: <b>{query}</b>. Alerts for it that are still waiting will not be sent.",
        "list.empty": "This chat follows nothing yet. Try <code>/subscribe Putin</code>.",
        "list.title": "<b>This chat follows</b> (delivery: {mode}):",
        "list.remove": "✕ {n}. {query}",
    },
    "de": {
        "help.subscribe": 'Einer Person, einem Ort oder Thema folgen (AND, OR, -Wort, "Phrasen")',
        "help.unsubscribe": "Nicht mehr folgen (Suchbegriff oder Nummer aus /list)",
        "help.list": "Deine Abos",
        "sub.usage": "Wem soll ich folgen? Zum Beispiel <code>/subscribe Putin</code> oder "
        "<code>/subscribe Waffendeal -Ukraine</code>.",
        "sub.empty": "Der Suchbegriff ist leer.",
        "sub.too_long": "Der Suchbegriff hat {length} Zeichen; erlaubt sind {limit}.",
        "sub.bad_query": "Diesen Suchbegriff verstehe ich nicht: {error}",
        "sub.limit": "Dieser Chat folgt schon {limit} Suchbegriffen, dem Maximum. "
        "Entferne erst einen mit /unsubscribe.",
        "sub.duplicate": "Dieser Chat folgt <b>{query}</b> bereits.",
        "sub.ok": "Abonniert: <b>{query}</b>\nVerstanden als: {description}",
        "sub.ambiguous": "<b>{query}</b> kann mehreres bedeuten. Bitte wählen:",
        "sub.newest": "Neuester passender Artikel im Archiv:",
        "sub.none_yet": "Noch kein Artikel im Archiv passt; sobald einer kommt, gibt es eine Meldung.",
        "sub.undo": "Rückgängig",
        "unsub.usage": "Welches? Sende <code>/unsubscribe 2</code> oder <code>/unsubscribe Putin</code>; "
        "/list zeigt die Nummern.",
        "unsub.empty": "Welches? /list zeigt die Nummern.",
        "unsub.unknown": "Dieser Chat folgt <b>{what}</b> nicht. /list zeigt die Abos.",
        "unsub.ok": "Abo beendet: <b>{query}</b>. Noch wartende Meldungen dazu werden nicht gesendet.",
        "list.empty": "Dieser Chat folgt noch nichts. Probier <code>/subscribe Putin</code>.",
        "list.title": "<b>Dieser Chat folgt</b> (Zustellung: {mode}):",
        "list.remove": "✕ {n}. {query}",
    },
}


def _refused(ctx: HandlerContext, refusal: SubscriptionRefused) -> Reply:
    values = {k: html.escape(str(v)) for k, v in refusal.values.items()}
    return Reply.text(ctx.t(refusal.key, **values))


@command("subscribe", manages_chat=True, usage="<query>", aliases=("sub",))
async def subscribe(ctx: HandlerContext) -> Reply:
    """Follow a person, place or topic (AND, OR, -word, "phrases" work)"""
    if not ctx.args:
        return Reply.text(ctx.t("sub.usage"))
    service = ctx.services.subscriptions
    try:
        resolution = service.resolve(ctx.args, ctx.chat.lang)
        if resolution.candidates and _single_term(ctx.args):
            buttons = tuple((Button(c, f"subscribe {c}"),) for c in resolution.candidates[:6])
            return Reply.text(ctx.t("sub.ambiguous", query=html.escape(ctx.args)), buttons)
        done = await service.subscribe(ctx.chat, ctx.args)
    except SubscriptionRefused as refusal:
        return _refused(ctx, refusal)
    query = done.subscription.query
    lines = [ctx.t("sub.ok", query=html.escape(query), description=html.escape(done.resolution.description))]
    if done.newest is not None:
        bullets = await ctx.services.delivery.bullets(done.newest, query)
        lines += ["", ctx.t("sub.newest"), article_card(done.newest, bullets, ctx.chat.lang)]
    else:
        lines += ["", ctx.t("sub.none_yet")]
    undo = ((Button(ctx.t("sub.undo"), f"unsubscribe #{done.subscription.id}"),),)
    return Reply.text("\n".join(lines), undo)


@command("unsubscribe", manages_chat=True, usage="<query|number>", aliases=("unsub",))
async def unsubscribe(ctx: HandlerContext) -> Reply:
    """Stop following (the query or its number in /list)"""
    if not ctx.args:
        return Reply.text(ctx.t("unsub.usage"))
    try:
        removed = await ctx.services.subscriptions.unsubscribe(ctx.chat, ctx.args)
    except SubscriptionRefused as refusal:
        return _refused(ctx, refusal)
    undo = ((Button(ctx.t("sub.undo"), f"subscribe {removed.query}"),),)
    return Reply.text(ctx.t("unsub.ok", query=html.escape(removed.query)), undo)


@command("list")
async def list_(ctx: HandlerContext) -> Reply:
    """Your subscriptions"""
    subs = await ctx.services.subscriptions.list(ctx.chat)
    if not subs:
        return Reply.text(ctx.t("list.empty"))
    lines = [ctx.t("list.title", mode=ctx.chat.mode.value)]
    lines += [f"{n}. {html.escape(s.query)}" for n, s in enumerate(subs, 1)]
    buttons = tuple(
        (Button(ctx.t("list.remove", n=n, query=s.query[:40]), f"unsubscribe #{s.id}"),) for n, s in enumerate(subs, 1)
    )
    return Reply.text("\n".join(lines), buttons)


def _single_term(query: str) -> bool:
    """Candidate buttons replace the whole query, so they are offered only for a bare name ("Kim"); in a
    boolean query the description already says what else the name could mean."""
    words = query.replace("(", " ( ").replace(")", " ) ").split()
    return not any(w.upper() in _OPERATORS or w.startswith("-") for w in words)


_OPERATORS = {"AND", "OR", "NOT", "UND", "ODER", "NICHT", "(", ")"}
