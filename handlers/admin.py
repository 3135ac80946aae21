"""Admin commands: add an article file, archive statistics."""

from __future__ import annotations

import html
from pathlib import PurePath

from bot.core.i18n import N_
from bot.core.messaging import Reply
from bot.core.models import IngestReport
from handlers.base import HandlerContext, command

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl", ".xml", ".rss", ".atom", ".json", ".gz")
CONSOLE_LIMIT = 20 * 1024 * 1024
SHOWN_OUTCOMES = 5

# How to attach a file differs by platform.
USAGE = {
    "matrix": N_(
        "Upload the file, then send {p}addseed as your next message (or reply {p}addseed to the file). "
        "Accepted: {types}."
    ),
    "console": N_("Give the file's path: {p}addseed path/to/article.txt. Accepted: {types}."),
}
DEFAULT_USAGE = N_("Attach a file with the caption {p}addseed, or reply {p}addseed to a file. Accepted: {types}.")
TOO_BIG = N_("<b>{name}</b> is {size}, over the {limit} upload limit. Nothing was stored.")


def upload_limit(ctx: HandlerContext) -> int:
    settings = ctx.services.settings
    return {
        "telegram": settings.telegram.max_upload_bytes,
        "matrix": settings.matrix.max_upload_bytes,
    }.get(ctx.cmd.platform, CONSOLE_LIMIT)


def human_size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


@command("addseed", admin_only=True, usage="(attached file)")
async def addseed(ctx: HandlerContext) -> Reply:
    """Add an article file (attach it, or reply to it)"""
    types = ", ".join(SUPPORTED_SUFFIXES)
    attachment = ctx.cmd.attachment
    if attachment is None:
        return Reply.text(ctx.t(USAGE.get(ctx.cmd.platform, DEFAULT_USAGE), types=types))
    name = html.escape(attachment.filename)
    if not attachment.filename.lower().endswith(SUPPORTED_SUFFIXES):
        return Reply.text(
            ctx.t("I can't read <b>{name}</b>: unsupported file type. Accepted: {types}.", name=name, types=types)
        )
    limit = upload_limit(ctx)
    if attachment.size is not None and attachment.size > limit:
        return Reply.text(ctx.t(TOO_BIG, name=name, size=human_size(attachment.size), limit=human_size(limit)))
    try:
        data = await attachment.fetch()
    except (OSError, ValueError) as exc:
        return Reply.text(ctx.t("I couldn't get the file: {error}", error=html.escape(str(exc) or type(exc).__name__)))
    if len(data) > limit:
        return Reply.text(ctx.t(TOO_BIG, name=name, size=human_size(len(data)), limit=human_size(limit)))
    report = await ctx.services.ingest.ingest_document(PurePath(attachment.filename).name, data, max_bytes=limit)
    return Reply.text(_report_text(ctx, report))


def _report_text(ctx: HandlerContext, report: IngestReport) -> str:
    new, dup, bad = report.count("new"), report.count("duplicate"), report.count("rejected")
    lines = [
        ctx.t.plural(
            "Stored {n} new article; {dup} duplicate, {bad} rejected.",
            "Stored {n} new articles; {dup} duplicate, {bad} rejected.",
            new,
            dup=dup,
            bad=bad,
        )
    ]
    for outcome in report.outcomes[:SHOWN_OUTCOMES]:
        title = html.escape(outcome.title or "")
        if outcome.status == "new":
            lines.append(ctx.t("• new: {title}", title=title))
        elif outcome.status == "duplicate":
            lines.append(ctx.t("• duplicate (already in the archive): {title}", title=title))
        else:
            source, reason = html.escape(outcome.source), html.escape(outcome.reason)
            lines.append(ctx.t("• rejected {source}: {reason}", source=source, reason=reason))
    if len(report.outcomes) > SHOWN_OUTCOMES:
        lines.append(ctx.t("… and {count} more", count=len(report.outcomes) - SHOWN_OUTCOMES))
    return "\n".join(lines)


@command("stats", admin_only=True)
async def stats(ctx: HandlerContext) -> Reply:
    """Archive and delivery statistics"""
    archive = await ctx.services.archive.stats()
    feeds = await ctx.services.feeds.list()
    spaces = await ctx.services.channels.counts()
    outbox = ", ".join(f"{k} {v}" for k, v in sorted(archive.outbox.items())) or "empty"
    return Reply.text(
        ctx.t(
            "<b>Archive</b>: {articles} articles\n<b>Chats</b>: {chats} active, {subs} subscriptions\n"
            "<b>Outbox</b>: {outbox}\n<b>Feeds</b>: {feeds}",
            articles=ctx.t.number(archive.articles),
            chats=ctx.t.number(archive.active_chats),
            subs=ctx.t.number(archive.subscriptions),
            outbox=outbox,
            feeds=ctx.t.number(len(feeds)),
        )
        + "\n"
        + ctx.t(
            "<b>Telegram</b>: {channels} channels, {topics} forum topics",
            channels=ctx.t.number(spaces.channels),
            topics=ctx.t.number(spaces.topics),
        )
    )
