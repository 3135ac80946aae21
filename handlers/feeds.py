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

TEXTS = {
    "en": {
        "help.addfeed": "Poll an RSS/Atom/JSON feed for new articles",
        "help.feeds": "List the polled feeds with their status",
        "help.removefeed": "Stop polling a feed (number from /feeds)",
        "help.importopml": "Add the feeds of an attached OPML file",
        "help.exportopml": "Show all feeds as OPML",
        "feeds.off": "Feed polling is not running in this instance.",
        "addfeed.usage": "Send /addfeed followed by the feed's address, e.g. /addfeed https://example.org/rss.xml",
        "addfeed.refused": "I can't add that feed: {reason}",
        "addfeed.exists": "That feed is already polled as number {n}: <b>{title}</b>.",
        "addfeed.added": "Added feed {n}: <b>{title}</b>. First fetch: {items} item(s) archived; "
        "new items will be alerted as they appear.",
        "addfeed.failed": "Added feed {n}: <b>{title}</b>, but the first fetch failed: {error}\n"
        "I'll retry with increasing pauses; /removefeed {n} drops it.",
        "feeds.empty": "No feeds yet. Add one with /addfeed &lt;url&gt;.",
        "feeds.title": "<b>Feeds</b> ({count})",
        "feeds.line": "{n}. <b>{title}</b> — {url}",
        "feeds.line_untitled": "{n}. {url}",
        "feeds.status": "    last fetch: {fetched} · {items} item(s)",
        "feeds.never": "never",
        "feeds.error": "    last error ({failures}×): {error}",
        "feeds.disabled": "    disabled — add it again with /addfeed to retry",
        "removefeed.usage": "Send /removefeed followed by the feed's number from /feeds.",
        "removefeed.missing": "There is no feed number {n}; /feeds lists them.",
        "removefeed.done": "Removed feed <b>{title}</b>. Its articles stay in the archive.",
        "importopml.usage": "Attach an OPML file with the caption /importopml, or reply /importopml to one.",
        "importopml.size": "That file is {size} bytes, over the limit of {limit}. Nothing was added.",
        "importopml.read": "I couldn't get the file: {error}",
        "importopml.bad": "I can't read that OPML file: {reason}",
        "importopml.done": "Imported {added} new feed(s); {existing} already polled, {rejected} refused. "
        "New feeds are fetched within a minute.",
        "importopml.reject": "• refused {url}: {reason}",
        "importopml.more": "… and {count} more",
        "exportopml.empty": "There are no feeds to export.",
        "exportopml.long": "{count} feeds — the OPML ({size} characters) is too long for a chat message.",
    },
    "de": {
        "help.addfeed": "RSS-/Atom-/JSON-Feed auf neue Artikel abfragen",
        "help.feeds": "Abgefragte Feeds mit Status anzeigen",
        "help.removefeed": "Feed nicht mehr abfragen (Nummer aus /feeds)",
        "help.importopml": "Feeds aus einer angehängten OPML-Datei hinzufügen",
        "help.exportopml": "Alle Feeds als OPML anzeigen",
        "feeds.off": "Die Feed-Abfrage läuft in dieser Instanz nicht.",
        "addfeed.usage": "Sende /addfeed und die Adresse des Feeds, z. B. /addfeed https://example.org/rss.xml",
        "addfeed.refused": "Diesen Feed kann ich nicht hinzufügen: {reason}",
        "addfeed.exists": "Dieser Feed wird schon als Nummer {n} abgefragt: <b>{title}</b>.",
        "addfeed.added": "Feed {n} hinzugefügt: <b>{title}</b>. Erster Abruf: {items} Einträge archiviert; "
        "neue Einträge werden gemeldet, sobald sie erscheinen.",
        "addfeed.failed": "Feed {n} hinzugefügt: <b>{title}</b>, aber der erste Abruf schlug fehl: {error}\n"
        "Ich versuche es mit wachsenden Pausen erneut; /removefeed {n} entfernt ihn.",
        "feeds.empty": "Noch keine Feeds. Mit /addfeed &lt;url&gt; fügst du einen hinzu.",
        "feeds.title": "<b>Feeds</b> ({count})",
        "feeds.line": "{n}. <b>{title}</b> — {url}",
        "feeds.line_untitled": "{n}. {url}",
        "feeds.status": "    letzter Abruf: {fetched} · {items} Einträge",
        "feeds.never": "nie",
        "feeds.error": "    letzter Fehler ({failures}×): {error}",
        "feeds.disabled": "    abgeschaltet — mit /addfeed erneut hinzufügen, um es wieder zu versuchen",
        "removefeed.usage": "Sende /removefeed und die Nummer des Feeds aus /feeds.",
        "removefeed.missing": "Es gibt keinen Feed Nummer {n}; /feeds zeigt die Liste.",
        "removefeed.done": "Feed <b>{title}</b> entfernt. Seine Artikel bleiben im Archiv.",
        "importopml.usage": "Hänge eine OPML-Datei mit der Beschriftung /importopml an oder antworte "
        "/importopml auf eine.",
        "importopml.size": "Die Datei hat {size} Bytes, über der Grenze von {limit}. Nichts hinzugefügt.",
        "importopml.read": "Die Datei konnte ich nicht holen: {error}",
        "importopml.bad": "Diese OPML-Datei kann ich nicht lesen: {reason}",
        "importopml.done": "{added} neue(r) Feed(s) importiert; {existing} schon vorhanden, {rejected} "
        "abgelehnt. Neue Feeds werden innerhalb einer Minute abgerufen.",
        "importopml.reject": "• abgelehnt {url}: {reason}",
        "importopml.more": "… und {count} weitere",
        "exportopml.empty": "Es gibt keine Feeds zum Exportieren.",
        "exportopml.long": "{count} Feeds — das OPML ({size} Zeichen) ist zu lang für eine Chat-Nachricht.",
    },
}


def _service(ctx: HandlerContext) -> FeedService | None:
    return ctx.services.feeds


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
    service = _service(ctx)
    if service is None:
        return Reply.text(ctx.t("feeds.off"))
    if not ctx.args:
        return Reply.text(ctx.t("addfeed.usage"))
    try:
        feed = await service.add(ctx.args, added_by=f"{ctx.cmd.platform}:{ctx.cmd.user_id}")
    except FeedExists as exc:
        n = await _position(service, exc.feed.id)
        return Reply.text(ctx.t("addfeed.exists", n=n, title=_title(exc.feed)))
    except FeedError as exc:
        return Reply.text(ctx.t("addfeed.refused", reason=_esc(exc)))
    n = await _position(service, feed.id)
    if feed.last_error:
        return Reply.text(ctx.t("addfeed.failed", n=n, title=_title(feed), error=_esc(feed.last_error)))
    return Reply.text(ctx.t("addfeed.added", n=n, title=_title(feed), items=feed.items_seen))


@command("feeds", admin_only=True)
async def feeds(ctx: HandlerContext) -> Reply:
    """List the polled feeds with their status"""
    service = _service(ctx)
    if service is None:
        return Reply.text(ctx.t("feeds.off"))
    listed = await service.list()
    if not listed:
        return Reply.text(ctx.t("feeds.empty"))
    lines = [ctx.t("feeds.title", count=len(listed))]
    for n, feed in enumerate(listed, start=1):
        lines.extend(_feed_lines(ctx, n, feed))
    return Reply.text("\n".join(lines))


def _feed_lines(ctx: HandlerContext, n: int, feed: Feed) -> list[str]:
    fetched = _local_time(ctx, feed.last_fetch_at) if feed.last_fetch_at else ctx.t("feeds.never")
    lines = [
        ctx.t("feeds.line", n=n, title=_title(feed), url=_esc(feed.url))
        if feed.title
        else ctx.t("feeds.line_untitled", n=n, url=_esc(feed.url)),
        ctx.t("feeds.status", fetched=fetched, items=feed.items_seen),
    ]
    if feed.last_error:
        lines.append(ctx.t("feeds.error", failures=feed.failures, error=_esc(feed.last_error)))
    if not feed.enabled:
        lines.append(ctx.t("feeds.disabled"))
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
    """Stop polling a feed (number from /feeds)"""
    service = _service(ctx)
    if service is None:
        return Reply.text(ctx.t("feeds.off"))
    text = ctx.args.lstrip("#")
    if not (text.isascii() and text.isdecimal() and len(text) <= 9):  # isdigit() accepts "²"
        return Reply.text(ctx.t("removefeed.usage"))
    removed = await service.remove(int(text))
    if removed is None:
        return Reply.text(ctx.t("removefeed.missing", n=_esc(text)))
    return Reply.text(ctx.t("removefeed.done", title=_title(removed)))


@command("importopml", admin_only=True, usage="(attached OPML file)")
async def importopml(ctx: HandlerContext) -> Reply:
    """Add the feeds of an attached OPML file"""
    service = _service(ctx)
    if service is None:
        return Reply.text(ctx.t("feeds.off"))
    attachment = ctx.cmd.attachment
    if attachment is None:
        return Reply.text(ctx.t("importopml.usage"))
    limit = ctx.services.settings.feeds.max_bytes
    if attachment.size is not None and attachment.size > limit:
        return Reply.text(ctx.t("importopml.size", size=attachment.size, limit=limit))
    try:
        data = await attachment.fetch()
    except (OSError, ValueError) as exc:
        return Reply.text(ctx.t("importopml.read", error=_esc(str(exc) or type(exc).__name__)))
    if len(data) > limit:
        return Reply.text(ctx.t("importopml.size", size=len(data), limit=limit))
    try:
        result = await service.import_opml(data)
    except FeedError as exc:
        return Reply.text(ctx.t("importopml.bad", reason=_esc(exc)))
    return Reply.text(_import_text(ctx, result))


def _import_text(ctx: HandlerContext, result: OpmlImport) -> str:
    lines = [
        ctx.t(
            "importopml.done",
            added=len(result.added),
            existing=len(result.existing),
            rejected=len(result.rejected),
        )
    ]
    for url, reason in result.rejected[:SHOWN_REJECTS]:
        lines.append(ctx.t("importopml.reject", url=_esc(url[:200]), reason=_esc(reason)))
    if len(result.rejected) > SHOWN_REJECTS:
        lines.append(ctx.t("importopml.more", count=len(result.rejected) - SHOWN_REJECTS))
    return "\n".join(lines)


@command("exportopml", admin_only=True)
async def exportopml(ctx: HandlerContext) -> Reply:
    """Show all feeds as OPML"""
    service = _service(ctx)
    if service is None:
        return Reply.text(ctx.t("feeds.off"))
    listed = await service.list()
    if not listed:
        return Reply.text(ctx.t("exportopml.empty"))
    document = (await service.export_opml()).decode("utf-8")
    if len(document) > EXPORT_MAX_CHARS:
        return Reply.text(ctx.t("exportopml.long", count=len(listed), size=len(document)))
    # One <code> per line: tags must not span line breaks, so the transport may split between any lines.
    return Reply.text("\n".join(f"<code>{_esc(line)}</code>" for line in document.splitlines() if line))
