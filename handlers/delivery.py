"""When alerts arrive: digest now, delivery mode, time zone, quiet hours."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.alerts.schedule import UnknownTimezone, next_digest_at, parse_hhmm, parse_quiet, validate_timezone
from bot.core.messaging import Reply
from bot.core.models import Chat, Mode
from handlers.base import HandlerContext, command

TEXTS = {
    "en": {
        "help.digest": "Send everything that is waiting now",
        "help.mode": "instant, hourly or daily [HH:MM] delivery",
        "help.timezone": "Your time zone for digests and quiet hours, e.g. Europe/Berlin",
        "help.quiet": "Hold alerts at night, e.g. 22:00-07:00, or off",
        "digest.none": "Nothing is waiting for this chat.",
        "digest.failed": "{count} waiting article(s) could not be sent just now; they are kept and sent automatically "
        "as soon as the platform accepts them.",
        "digest.sent": "Sent {count} waiting article(s).",
        "digest.more": "{left} more are waiting; send /digest again for the next batch.",
        "mode.usage": "Send <code>/mode instant</code>, <code>/mode hourly</code> or <code>/mode daily 08:00</code>. "
        "Now: <b>{mode}</b>.",
        "mode.bad_time": "“{value}” is not a time of day: use HH:MM, e.g. 08:00 (hours go 00–23, minutes 00–59).",
        "mode.instant": "Alerts now arrive as soon as a matching article is stored.",
        "mode.hourly": "Alerts now arrive as an hourly digest (next: {next} {tz}).",
        "mode.daily": "Alerts now arrive as a daily digest at {time} {tz} (next: {next}).",
        "tz.usage": "Send <code>/timezone Europe/Berlin</code> (an IANA name). Now: <b>{tz}</b>.",
        "tz.bad": "Unknown time zone “{name}”. Use an IANA name such as Europe/Berlin.",
        "tz.suggest": "Unknown time zone “{name}”. Did you mean {suggestion}?",
        "tz.ok": "Time zone set to <b>{tz}</b>; it is {local} there now.",
        "quiet.usage": "Send <code>/quiet 22:00-07:00</code> or <code>/quiet off</code>. Now: <b>{quiet}</b>.",
        "quiet.bad": "“{value}” is not a quiet-hours range: use HH:MM-HH:MM with different times, "
        "e.g. 22:00-07:00, or off.",
        "quiet.off": "Quiet hours are off.",
        "quiet.on": "Quiet hours {start}–{end} ({tz}): instant alerts are held and sent as one digest "
        "when the quiet time ends.",
        "quiet.none": "off",
    },
    "de": {
        "help.digest": "Alles Wartende jetzt senden",
        "help.mode": "Zustellung instant, hourly oder daily [HH:MM]",
        "help.timezone": "Deine Zeitzone für Digests und Ruhezeiten, z. B. Europe/Berlin",
        "help.quiet": "Nachts keine Meldungen, z. B. 22:00-07:00, oder off",
        "digest.none": "Für diesen Chat wartet nichts.",
        "digest.failed": "{count} wartende(r) Artikel konnte(n) gerade nicht gesendet werden; sie bleiben gespeichert "
        "und kommen automatisch, sobald die Plattform sie annimmt.",
        "digest.sent": "{count} wartende(n) Artikel gesendet.",
        "digest.more": "{left} weitere warten; /digest schickt die nächsten.",
        "mode.usage": "Sende <code>/mode instant</code>, <code>/mode hourly</code> oder "
        "<code>/mode daily 08:00</code>. "
        "Jetzt: <b>{mode}</b>.",
        "mode.bad_time": "„{value}“ ist keine Uhrzeit: bitte HH:MM, z. B. 08:00 (Stunden 00–23, Minuten 00–59).",
        "mode.instant": "Meldungen kommen jetzt sofort, wenn ein passender Artikel gespeichert wird.",
        "mode.hourly": "Meldungen kommen jetzt stündlich gesammelt (nächster Digest: {next} {tz}).",
        "mode.daily": "Meldungen kommen jetzt täglich um {time} {tz} gesammelt (nächster: {next}).",
        "tz.usage": "Sende <code>/timezone Europe/Berlin</code> (IANA-Name). Jetzt: <b>{tz}</b>.",
        "tz.bad": "Unbekannte Zeitzone „{name}“. Bitte einen IANA-Namen wie Europe/Berlin angeben.",
        "tz.suggest": "Unbekannte Zeitzone „{name}“. Meintest du {suggestion}?",
        "tz.ok": "Zeitzone ist jetzt <b>{tz}</b>; dort ist es {local}.",
        "quiet.usage": "Sende <code>/quiet 22:00-07:00</code> oder <code>/quiet off</code>. Jetzt: <b>{quiet}</b>.",
        "quiet.bad": "„{value}“ ist keine Ruhezeit: bitte HH:MM-HH:MM mit verschiedenen Zeiten, "
        "z. B. 22:00-07:00, oder off.",
        "quiet.off": "Ruhezeit ist aus.",
        "quiet.on": "Ruhezeit {start}–{end} ({tz}): Sofort-Meldungen werden gesammelt und am Ende der Ruhezeit "
        "als ein Digest gesendet.",
        "quiet.none": "aus",
    },
}


@command("digest")
async def digest(ctx: HandlerContext) -> Reply:
    """Send everything that is waiting now"""
    result = await ctx.services.delivery.deliver_chat(ctx.chat, as_digest=True, force=True)
    if result.failed:
        return Reply.text(ctx.t("digest.failed", count=result.failed))
    if result.sent_items == 0 and result.left_over == 0:
        return Reply.text(ctx.t("digest.none"))
    if result.left_over:
        return Reply.text(ctx.t("digest.more", left=result.left_over))
    return Reply()


@command("mode", manages_chat=True, usage="instant|hourly|daily [HH:MM]")
async def mode(ctx: HandlerContext) -> Reply:
    """instant, hourly or daily [HH:MM] delivery"""
    words = ctx.args.lower().split()
    if not words or words[0] not in {m.value for m in Mode} or len(words) > 2:
        return Reply.text(ctx.t("mode.usage", mode=_describe_mode(ctx.chat)))
    new_mode = Mode(words[0])
    fields: dict[str, object] = {"mode": new_mode}
    if len(words) == 2:
        if new_mode is not Mode.DAILY:
            return Reply.text(ctx.t("mode.usage", mode=_describe_mode(ctx.chat)))
        try:
            fields["digest_time"] = parse_hhmm(words[1]).strftime("%H:%M")
        except ValueError:
            return Reply.text(ctx.t("mode.bad_time", value=html.escape(_shorten(words[1]))))
    chat = await ctx.services.storage.chats.update(ctx.chat.id, **fields)
    if chat.mode is not Mode.INSTANT and ctx.chat.mode is Mode.INSTANT:
        # Digests count from now: nothing "came due while stopped" before the chat chose them.
        await ctx.services.storage.chats.set_last_digest(chat.id, ctx.now)
    await _replan(ctx, chat)
    if chat.mode is Mode.INSTANT:
        ctx.services.delivery.kick()  # anything held for a digest goes out now
        return Reply.text(ctx.t("mode.instant"))
    upcoming = next_digest_at(chat.mode, chat.digest_time, chat.timezone, ctx.now)
    local = _local(upcoming, chat.timezone) if upcoming else "?"
    key = "mode.hourly" if chat.mode is Mode.HOURLY else "mode.daily"
    return Reply.text(ctx.t(key, next=local, tz=chat.timezone, time=chat.digest_time))


@command("timezone", manages_chat=True, usage="<Area/City>", aliases=("tz",))
async def timezone(ctx: HandlerContext) -> Reply:
    """Your time zone for digests and quiet hours, e.g. Europe/Berlin"""
    if not ctx.args:
        return Reply.text(ctx.t("tz.usage", tz=ctx.chat.timezone))
    try:
        name = validate_timezone(ctx.args.strip())
    except UnknownTimezone as exc:
        # Only the capitalisation differs ("europe/berlin"): take it, there is no doubt what was meant.
        if not exc.suggestion or exc.suggestion.casefold() != ctx.args.strip().casefold():
            name = html.escape(_shorten(ctx.args.strip(), 60))
            if exc.suggestion:
                return Reply.text(ctx.t("tz.suggest", name=name, suggestion=html.escape(exc.suggestion)))
            return Reply.text(ctx.t("tz.bad", name=name))
        name = exc.suggestion
    chat = await ctx.services.storage.chats.update(ctx.chat.id, timezone=name)
    await _replan(ctx, chat)
    return Reply.text(ctx.t("tz.ok", tz=name, local=_local(ctx.now, name)))


@command("quiet", manages_chat=True, usage="<HH:MM-HH:MM|off>")
async def quiet(ctx: HandlerContext) -> Reply:
    """Hold alerts at night, e.g. 22:00-07:00, or off"""
    if not ctx.args:
        current = f"{ctx.chat.quiet_start}-{ctx.chat.quiet_end}" if ctx.chat.quiet_start else ctx.t("quiet.none")
        return Reply.text(ctx.t("quiet.usage", quiet=current))
    try:
        window = parse_quiet(ctx.args.strip())
    except ValueError:
        return Reply.text(ctx.t("quiet.bad", value=html.escape(_shorten(ctx.args.strip(), 60))))
    if window is None:
        await ctx.services.storage.chats.update(ctx.chat.id, quiet_start=None, quiet_end=None)
        ctx.services.delivery.kick()
        return Reply.text(ctx.t("quiet.off"))
    start, end = (t.strftime("%H:%M") for t in window)
    chat = await ctx.services.storage.chats.update(ctx.chat.id, quiet_start=start, quiet_end=end)
    ctx.services.delivery.kick()
    return Reply.text(ctx.t("quiet.on", start=start, end=end, tz=chat.timezone))


async def _replan(ctx: HandlerContext, chat: Chat) -> None:
    if ctx.services.scheduler is not None:
        await ctx.services.scheduler.plan_chat(chat)


def _describe_mode(chat: Chat) -> str:
    return f"daily {chat.digest_time}" if chat.mode is Mode.DAILY else chat.mode.value


def _local(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
