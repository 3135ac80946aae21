"""Admin commands: add an article file, archive statistics."""

from __future__ import annotations

import html
from pathlib import PurePath

from bot.core.messaging import Reply
from bot.core.models import IngestReport
from handlers.base import HandlerContext, command

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl", ".xml", ".rss", ".atom", ".json", ".gz")
CONSOLE_LIMIT = 20 * 1024 * 1024
USAGE_KEYS = {"matrix": "addseed.usage_matrix", "console": "addseed.usage_console"}  # how to attach differs
SHOWN_OUTCOMES = 5

TEXTS = {
    "en": {
        "help.addseed": "Add an article file (attach it, or reply to it)",
        "help.stats": "Archive and delivery statistics",
        "addseed.usage": "Attach a file with the caption /addseed, or reply /addseed to a file. Accepted: {types}.",
        "addseed.usage_matrix": "Upload the file, then send !addseed as your next message (or reply !addseed to "
        "the file). Accepted: {types}.",
        "addseed.usage_console": "Give the file's path: /addseed path/to/article.txt. Accepted: {types}.",
        "addseed.type": "I can't read <b>{name}</b>: unsupported file type. Accepted: {types}.",
        "addseed.size": "<b>{name}</b> is {size}, over the {limit} upload limit. Nothing was stored.",
        "addseed.read": "I couldn't get the file: {error}",
        "addseed.summary": "Stored {new} new article(s); {dup} duplicate, {bad} rejected.",
        "addseed.line_new": "• new: {title}",
        "addseed.line_duplicate": "• duplicate (already in the archive): {title}",
        "addseed.line_rejected": "• rejected {source}: {reason}",
        "addseed.more": "… and {count} more",
        "stats.text": "<b>Archive</b>: {articles} articles\n<b>Chats</b>: {chats} active, {subs} subscriptions\n"
        "<b>Outbox</b>: {outbox}\n<b>Feeds</b>: {feeds}",
    },
    "de": {
        "help.addseed": "Artikeldatei hinzufügen (anhängen oder darauf antworten)",
        "help.stats": "Statistik zu Archiv und Zustellung",
        "addseed.usage": "Hänge eine Datei mit der Beschriftung /addseed an oder antworte /addseed auf eine Datei. "
        "Erlaubt: {types}.",
        "addseed.usage_matrix": "Lade die Datei hoch und sende danach !addseed (oder antworte !addseed auf die "
        "Datei). Erlaubt: {types}.",
        "addseed.usage_console": "Gib den Pfad der Datei an: /addseed pfad/zum/artikel.txt. Erlaubt: {types}.",
        "addseed.type": "<b>{name}</b> kann ich nicht lesen: Dateityp nicht unterstützt. Erlaubt: {types}.",
        "addseed.size": "<b>{name}</b> ist {size} groß, über der Grenze von {limit}. Nichts gespeichert.",
        "addseed.read": "Die Datei konnte ich nicht holen: {error}",
        "addseed.summary": "{new} neue(r) Artikel gespeichert; {dup} doppelt, {bad} abgelehnt.",
        "addseed.line_new": "• neu: {title}",
        "addseed.line_duplicate": "• doppelt (schon im Archiv): {title}",
        "addseed.line_rejected": "• abgelehnt {source}: {reason}",
        "addseed.more": "… und {count} weitere",
        "stats.text": "<b>Archiv</b>: {articles} Artikel\n<b>Chats</b>: {chats} aktiv, {subs} Abos\n"
        "<b>Outbox</b>: {outbox}\n<b>Feeds</b>: {feeds}",
    },
}


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
        return Reply.text(ctx.t(USAGE_KEYS.get(ctx.cmd.platform, "addseed.usage"), types=types))
    name = html.escape(attachment.filename)
    if not attachment.filename.lower().endswith(SUPPORTED_SUFFIXES):
        return Reply.text(ctx.t("addseed.type", name=name, types=types))
    limit = upload_limit(ctx)
    if attachment.size is not None and attachment.size > limit:
        return Reply.text(ctx.t("addseed.size", name=name, size=human_size(attachment.size), limit=human_size(limit)))
    try:
        data = await attachment.fetch()
    except (OSError, ValueError) as exc:
        return Reply.text(ctx.t("addseed.read", error=html.escape(str(exc) or type(exc).__name__)))
    if len(data) > limit:
        return Reply.text(ctx.t("addseed.size", name=name, size=human_size(len(data)), limit=human_size(limit)))
    report = await ctx.services.ingest.ingest_document(PurePath(attachment.filename).name, data, max_bytes=limit)
    return Reply.text(_report_text(ctx, report))


def _report_text(ctx: HandlerContext, report: IngestReport) -> str:
    new, dup, bad = report.count("new"), report.count("duplicate"), report.count("rejected")
    lines = [ctx.t("addseed.summary", new=new, dup=dup, bad=bad)]
    for outcome in report.outcomes[:SHOWN_OUTCOMES]:
        title = html.escape(outcome.title or "")
        if outcome.status == "new":
            lines.append(ctx.t("addseed.line_new", title=title))
        elif outcome.status == "duplicate":
            lines.append(ctx.t("addseed.line_duplicate", title=title))
        else:
            lines.append(
                ctx.t("addseed.line_rejected", source=html.escape(outcome.source), reason=html.escape(outcome.reason))
            )
    if len(report.outcomes) > SHOWN_OUTCOMES:
        lines.append(ctx.t("addseed.more", count=len(report.outcomes) - SHOWN_OUTCOMES))
    return "\n".join(lines)


@command("stats", admin_only=True)
async def stats(ctx: HandlerContext) -> Reply:
    """Archive and delivery statistics"""
    storage = ctx.services.storage
    outbox = await storage.outbox.status_counts()
    feeds = await ctx.services.feeds.list() if ctx.services.feeds is not None else []
    return Reply.text(
        ctx.t(
            "stats.text",
            articles=await storage.articles.count(),
            chats=await storage.chats.count(),
            subs=await storage.subscriptions.count(),
            outbox=", ".join(f"{k} {v}" for k, v in sorted(outbox.items())) or "empty",
            feeds=len(feeds),
        )
    )
