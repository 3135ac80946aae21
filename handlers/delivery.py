"""When alerts arrive: digest now, delivery mode, time zone, quiet hours."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.alerts.schedule import UnknownTimezone, next_digest_at, parse_hhmm, parse_quiet, validate_timezone
from bot.core.messaging import Reply
from bot.core.models import Chat, Mode
from handlers.base import HandlerContext, command


@command("digest")
async def digest(ctx: HandlerContext) -> Reply:
    """Send everything that is waiting now"""
    result = await ctx.services.delivery.deliver_chat(ctx.chat, as_digest=True, force=True)
    if result.failed:
        return Reply.text(
            ctx.t.plural(
                "{n} waiting article could not be sent just now; it is kept and sent automatically "
                "as soon as the platform accepts it.",
                "{n} waiting articles could not be sent just now; they are kept and sent automatically "
                "as soon as the platform accepts them.",
                result.failed,
            )
        )
    if result.sent_items == 0 and result.left_over == 0:
        return Reply.text(ctx.t("Nothing is waiting for this chat."))
    if result.left_over:
        return Reply.text(
            ctx.t("{left} more are waiting; send {p}digest again for the next batch.", left=result.left_over)
        )
    return Reply()


@command("mode", manages_chat=True, usage="instant|hourly|daily [HH:MM]")
async def mode(ctx: HandlerContext) -> Reply:
    """instant, hourly or daily [HH:MM] delivery"""
    words = ctx.args.lower().split()
    if not words or words[0] not in {m.value for m in Mode} or len(words) > 2:
        return _mode_usage(ctx)
    new_mode = Mode(words[0])
    digest_time = None
    if len(words) == 2:
        if new_mode is not Mode.DAILY:
            return _mode_usage(ctx)
        try:
            digest_time = parse_hhmm(words[1])
        except ValueError:
            return Reply.text(
                ctx.t(
                    "“{value}” is not a time of day: use HH:MM, e.g. 08:00 (hours go 00–23, minutes 00–59).",
                    value=html.escape(_shorten(words[1])),
                )
            )
    chat = await ctx.services.chat_settings.set_mode(ctx.chat, new_mode, digest_time, ctx.now)
    if chat.mode is Mode.INSTANT:
        return Reply.text(ctx.t("Alerts now arrive as soon as a matching article is stored."))
    upcoming = next_digest_at(chat.mode, chat.digest_time, chat.timezone, ctx.now)
    local = _local(upcoming, chat.timezone) if upcoming else "?"
    if chat.mode is Mode.HOURLY:
        return Reply.text(
            ctx.t("Alerts now arrive as an hourly digest (next: {next} {tz}).", next=local, tz=chat.timezone)
        )
    return Reply.text(
        ctx.t(
            "Alerts now arrive as a daily digest at {time} {tz} (next: {next}).",
            next=local,
            tz=chat.timezone,
            time=chat.digest_time,
        )
    )


def _mode_usage(ctx: HandlerContext) -> Reply:
    return Reply.text(
        ctx.t(
            "Send <code>{p}mode instant</code>, <code>{p}mode hourly</code> or <code>{p}mode daily 08:00</code>. "
            "Now: <b>{mode}</b>.",
            mode=_describe_mode(ctx.chat),
        )
    )


@command("timezone", manages_chat=True, usage="<Area/City>", aliases=("tz",))
async def timezone(ctx: HandlerContext) -> Reply:
    """Your time zone for digests and quiet hours, e.g. Europe/Berlin"""
    if not ctx.args:
        return Reply.text(
            ctx.t("Send <code>{p}timezone Europe/Berlin</code> (an IANA name). Now: <b>{tz}</b>.", tz=ctx.chat.timezone)
        )
    try:
        name = validate_timezone(ctx.args.strip())
    except UnknownTimezone as exc:
        # Only the capitalisation differs ("europe/berlin"): take it, there is no doubt what was meant.
        if not exc.suggestion or exc.suggestion.casefold() != ctx.args.strip().casefold():
            return _unknown_timezone(ctx, exc)
        name = exc.suggestion
    await ctx.services.chat_settings.set_timezone(ctx.chat, name)
    return Reply.text(
        ctx.t("Time zone set to <b>{tz}</b>; it is {local} there now.", tz=name, local=_local(ctx.now, name))
    )


def _unknown_timezone(ctx: HandlerContext, exc: UnknownTimezone) -> Reply:
    name = html.escape(_shorten(ctx.args.strip(), 60))
    if exc.suggestion:
        suggestion = html.escape(exc.suggestion)
        return Reply.text(
            ctx.t("Unknown time zone “{name}”. Did you mean {suggestion}?", name=name, suggestion=suggestion)
        )
    return Reply.text(ctx.t("Unknown time zone “{name}”. Use an IANA name such as Europe/Berlin.", name=name))


@command("quiet", manages_chat=True, usage="<HH:MM-HH:MM|off>")
async def quiet(ctx: HandlerContext) -> Reply:
    """Hold alerts at night, e.g. 22:00-07:00, or off"""
    if not ctx.args:
        chat = ctx.chat
        current = f"{chat.quiet_start}-{chat.quiet_end}" if chat.quiet_start else ctx.t("off")
        return Reply.text(
            ctx.t(
                "Send <code>{p}quiet 22:00-07:00</code> or <code>{p}quiet off</code>. Now: <b>{quiet}</b>.",
                quiet=current,
            )
        )
    try:
        window = parse_quiet(ctx.args.strip())
    except ValueError:
        return Reply.text(
            ctx.t(
                "“{value}” is not a quiet-hours range: use HH:MM-HH:MM with different times, e.g. 22:00-07:00, or off.",
                value=html.escape(_shorten(ctx.args.strip(), 60)),
            )
        )
    chat = await ctx.services.chat_settings.set_quiet(ctx.chat, window)
    if chat.quiet_start is None or chat.quiet_end is None:
        return Reply.text(ctx.t("Quiet hours are off."))
    return Reply.text(
        ctx.t(
            "Quiet hours {start}–{end} ({tz}): instant alerts are held and sent as one digest "
            "when the quiet time ends.",
            start=chat.quiet_start,
            end=chat.quiet_end,
            tz=chat.timezone,
        )
    )


def _describe_mode(chat: Chat) -> str:
    return f"daily {chat.digest_time}" if chat.mode is Mode.DAILY else chat.mode.value


def _local(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _shorten(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
