"""Admin commands for live sources: add, list and remove feeds; OPML import and export."""

from __future__ import annotations

import html
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.feeds.results import FeedError, FeedExists, OpmlImport
from bot.core.messaging import Reply
from bot.core.models import Feed
from handlers.base import HandlerContext, command

if TYPE_CHECKING:
    from bot.services.feeds import FeedService

EXPORT_MAX_CHARS = 12_000  # beyond this the OPML is summarised instead of flooding the chat
SHOWN_REJECTS = 5


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _title(feed: Feed) -> str:
    # Collapsed to one line: a tag must not span a line break (messages are split between lines).
    return _esc(" ".join((feed.title or feed.url).split()))


async def _position(service: FeedService, feed_id: int) -> int:
    feeds = await service.list()
    return next((n for n, f in enumerate(feeds, start=1) if f.id == feed_id), len(feeds))


@command("addfeed", admin_only=True, usage="<url>")
async def addfeed(ctx: HandlerContext) -> Reply:
    """Poll an RSS/Atom/JSON feed for new articles"""
    service = ctx.services.feeds
    if not ctx.args:
        return Reply.text(
            ctx.t("Send {p}addfeed followed by the feed's address, e.g. {p}addfeed https://example.org/rss.xml")
        )
    try:
        feed = await service.add(ctx.args, added_by=f"{ctx.cmd.platform}:{ctx.cmd.user_id}")
    except FeedExists as exc:
        n = await _position(service, exc.feed.id)
        return Reply.text(
            ctx.t("That feed is already polled as number {n}: <b>{title}</b>.", n=n, title=_title(exc.feed))
        )
    except FeedError as exc:
        return Reply.text(ctx.t("I can't add that feed: {reason}", reason=_esc(exc)))
    n = await _position(service, feed.id)
    if feed.last_error:
        return Reply.text(
            ctx.t(
                "Added feed {n}: <b>{title}</b>, but the first fetch failed: {error}\nI'll retry with "
                "increasing pauses; {p}removefeed {n} drops it.",
                n=n,
                title=_title(feed),
                error=_esc(feed.last_error),
            )
        )
    return Reply.text(
        ctx.t.plural(
            "Added feed {number}: <b>{title}</b>. First fetch: {n} item archived; new items will be alerted "
            "as they appear.",
            "Added feed {number}: <b>{title}</b>. First fetch: {n} items archived; new items will be alerted "
            "as they appear.",
            feed.items_seen,
            number=n,
            title=_title(feed),
        )
    )


@command("feeds", admin_only=True)
async def feeds(ctx: HandlerContext) -> Reply:
    """List the polled feeds with their status"""
    service = ctx.services.feeds
    listed = await service.list()
    if not listed:
        return Reply.text(ctx.t("No feeds yet. Add one with {p}addfeed &lt;url&gt;."))
    lines = [ctx.t("<b>Feeds</b> ({count})", count=len(listed))]
    for n, feed in enumerate(listed, start=1):
        lines.extend(_feed_lines(ctx, n, feed))
    return Reply.text("\n".join(lines))


def _feed_lines(ctx: HandlerContext, n: int, feed: Feed) -> list[str]:
    fetched = _local_time(ctx, feed.last_fetch_at) if feed.last_fetch_at else ctx.t("never")
    lines = [
        ctx.t("{n}. <b>{title}</b> — {url}", n=n, title=_title(feed), url=_esc(feed.url))
        if feed.title
        else ctx.t("{n}. {url}", n=n, url=_esc(feed.url)),
        ctx.t.plural(
            "    last fetch: {fetched} · {n} item",
            "    last fetch: {fetched} · {n} items",
            feed.items_seen,
            fetched=fetched,
        ),
    ]
    if feed.last_error:
        lines.append(
            ctx.t("    last error ({failures}×): {error}", failures=feed.failures, error=_esc(feed.last_error))
        )
    if not feed.enabled:
        lines.append(ctx.t("    disabled — add it again with {p}addfeed to retry"))
    return lines


def _local_time(ctx: HandlerContext, moment: datetime) -> str:
    """In the chat's own time zone, as every other time the bot shows."""
    try:
        zone = ZoneInfo(ctx.chat.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


@command("removefeed", admin_only=True, usage="<n>")
async def removefeed(ctx: HandlerContext) -> Reply:
    """Stop polling a feed (number from {p}feeds)"""
    service = ctx.services.feeds
    text = ctx.args.lstrip("#")
    if not (text.isascii() and text.isdecimal() and len(text) <= 9):  # isdigit() accepts "²"
        return Reply.text(ctx.t("Send {p}removefeed followed by the feed's number from {p}feeds."))
    removed = await service.remove(int(text))
    if removed is None:
        return Reply.text(ctx.t("There is no feed number {n}; {p}feeds lists them.", n=_esc(text)))
    return Reply.text(ctx.t("Removed feed <b>{title}</b>. Its articles stay in the archive.", title=_title(removed)))


@command("importopml", admin_only=True, usage="(attached OPML file)")
async def importopml(ctx: HandlerContext) -> Reply:
    """Add the feeds of an attached OPML file"""
    service = ctx.services.feeds
    attachment = ctx.cmd.attachment
    if attachment is None:
        return Reply.text(ctx.t("Attach an OPML file with the caption {p}importopml, or reply {p}importopml to one."))
    limit = ctx.services.settings.feeds.max_bytes
    if attachment.size is not None and attachment.size > limit:
        return Reply.text(
            ctx.t(
                "That file is {size} bytes, over the limit of {limit}. Nothing was added.",
                size=attachment.size,
                limit=limit,
            )
        )
    try:
        data = await attachment.fetch()
    except (OSError, ValueError) as exc:
        return Reply.text(ctx.t("I couldn't get the file: {error}", error=_esc(str(exc) or type(exc).__name__)))
    if len(data) > limit:
        return Reply.text(
            ctx.t(
                "That file is {size} bytes, over the limit of {limit}. Nothing was added.", size=len(data), limit=limit
            )
        )
    try:
        result = await service.import_opml(data)
    except FeedError as exc:
        return Reply.text(ctx.t("I can't read that OPML file: {reason}", reason=_esc(exc)))
    return Reply.text(_import_text(ctx, result))


def _import_text(ctx: HandlerContext, result: OpmlImport) -> str:
    lines = [
        ctx.t.plural(
            "Imported {n} new feed; {existing} already polled, {rejected} refused. "
            "New feeds are fetched within a minute.",
            "Imported {n} new feeds; {existing} already polled, {rejected} refused. "
            "New feeds are fetched within a minute.",
            len(result.added),
            existing=len(result.existing),
            rejected=len(result.rejected),
        )
    ]
    for url, reason in result.rejected[:SHOWN_REJECTS]:
        lines.append(ctx.t("• refused {url}: {reason}", url=_esc(url[:200]), reason=_esc(reason)))
    if len(result.rejected) > SHOWN_REJECTS:
        lines.append(ctx.t("… and {count} more", count=len(result.rejected) - SHOWN_REJECTS))
    return "\n".join(lines)


@command("exportopml", admin_only=True)
async def exportopml(ctx: HandlerContext) -> Reply:
    """Show all feeds as OPML"""
    service = ctx.services.feeds
    listed = await service.list()
    if not listed:
        return Reply.text(ctx.t("There are no feeds to export."))
    document = (await service.export_opml()).decode("utf-8")
    if len(document) > EXPORT_MAX_CHARS:
        return Reply.text(
            ctx.t(
                "{count} feeds — the OPML ({size} characters) is too long for a chat message.",
                count=len(listed),
                size=len(document),
            )
        )
    # One <code> per line: tags must not span line breaks, so the transport may split between any lines.
    return Reply.text("\n".join(f"<code>{_esc(line)}</code>" for line in document.splitlines() if line))
