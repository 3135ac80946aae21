"""Trend charts in the chat: ``trend <query>[, <query>…] [7d|30d|90d|1y]``."""

from __future__ import annotations

import html

from bot.core.messaging import Image, OutgoingMessage, Reply
from bot.core.trends import TrendRefused, parse_trend_args
from handlers.base import HandlerContext, command

CHART_FILENAME = "trend.png"


@command("trend", usage="<query>[, <query>…] [7d|30d|90d|1y]")
async def trend(ctx: HandlerContext) -> Reply:
    """Chart of how often the archive names up to three queries per day (default 30 days)"""
    if not ctx.args:
        return Reply.text(ctx.t("Which query should the trend show? e.g. <code>{p}trend Putin 90d</code>"))
    service = ctx.services.trends
    try:
        queries, days = parse_trend_args(ctx.args)
        report = await service.report(queries, days, timezone=ctx.chat.timezone, lang=ctx.chat.lang)
    except TrendRefused as refusal:
        values = {k: html.escape(str(v)) for k, v in refusal.values.items()}
        return Reply.text(ctx.t(refusal.message, **values))
    if report.empty:
        return Reply.text(service.empty_sentence(report, ctx.t))
    chart = await service.chart(report, ctx.t)
    image = Image(chart.png, chart.width, chart.height, filename=CHART_FILENAME)
    return Reply((OutgoingMessage(chart.caption, image=image),))
