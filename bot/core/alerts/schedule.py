"""When digests fire and when quiet hours hold alerts back, in each chat's own IANA time zone.

Every function takes the current moment as an aware datetime and returns aware UTC datetimes, so the
scheduler (and tests) decide what "now" is. Local wall times are resolved DST-correctly:

- a wall time that does not exist (the spring-forward gap) resolves to the first valid moment after it,
  i.e. the instant the clocks jumped (02:30 in Berlin on the last Sunday of March fires at 03:00 CEST);
- a wall time that happens twice (the fall-back hour) resolves to its first occurrence only.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.models import Mode

_HHMM = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})\s*$")
_QUIET_OFF = frozenset({"off", "none", "no", "aus", "kein", "keine", "nein", "0"})
_RANGE_SEPARATORS = re.compile(r"\s*(?:-|–|—|to|bis)\s*")
# Names the tz database ships that are not places a person lives in.
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})
_HOUR = timedelta(hours=1)


class UnknownTimezone(ValueError):
    """A time-zone name that is not in the IANA database; ``suggestion`` is the closest real name, if any."""

    def __init__(self, name: str, suggestion: str | None) -> None:
        hint = f"; did you mean {suggestion}?" if suggestion else "; use an IANA name such as Europe/Berlin"
        super().__init__(f"unknown time zone {name!r}{hint}" if name else f"no time zone given{hint}")
        self.name = name
        self.suggestion = suggestion


# --- parsing -----------------------------------------------------------------------------------------------


def parse_hhmm(text: str) -> time:
    """``"8:05"``, ``"08:05"`` or ``"08.05"`` → ``time(8, 5)``; anything else raises a readable ValueError."""
    match = _HHMM.match(text or "")
    if not match:
        raise ValueError(f"{text.strip()!r} is not a time of day; use HH:MM, e.g. 08:00")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f"{text.strip()!r} is not a time of day; hours go 00–23 and minutes 00–59")
    return time(hour, minute)


def format_hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def parse_quiet(text: str) -> tuple[time, time] | None:
    """``"22:00-07:00"`` → ``(time(22), time(7))``; ``"off"`` → None. Ranges may cross midnight."""
    cleaned = (text or "").strip().casefold()
    if cleaned in _QUIET_OFF:
        return None
    pieces = _RANGE_SEPARATORS.split(cleaned)
    if len(pieces) != 2 or not all(pieces):
        raise ValueError(f"{text.strip()!r} is not a quiet-hours range; use HH:MM-HH:MM (e.g. 22:00-07:00) or off")
    start, end = parse_hhmm(pieces[0]), parse_hhmm(pieces[1])
    if start == end:
        raise ValueError("quiet hours need different start and end times (use off to switch them off)")
    return start, end


_ZONE_SHAPE = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*$")


@cache
def _zone_names() -> dict[str, str]:
    """Lower-cased name → canonical IANA name, for suggestions.

    Listing the database walks the disk (~0.2 s) once per process; call :func:`preload_timezone_names`
    in a worker thread at start so a misspelt ``timezone`` command never blocks the event loop.
    """
    names = {name for name in available_timezones() if _is_place_name(name)}
    names.add("UTC")
    return {name.casefold(): name for name in names}


def preload_timezone_names() -> None:
    """Fill the name cache (blocking I/O): ``await asyncio.to_thread(preload_timezone_names)`` at start."""
    _zone_names()


def _is_place_name(name: str) -> bool:
    return bool(_ZONE_SHAPE.match(name)) and name not in _NOT_ZONES and not name.startswith(("posix/", "right/"))


def _loads(name: str) -> bool:
    # ZoneInfo caches zones it has loaded, so a known zone costs one small file read per process.
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def suggest_timezone(name: str) -> str | None:
    """The closest IANA name to a misspelt or mis-cased one: ``"europe/berlin"`` → ``"Europe/Berlin"``."""
    key = re.sub(r"\s+", "_", name.strip()).casefold()
    if not key:
        return None
    names = _zone_names()
    if key in names:
        return names[key]
    # "berlin" or "new york": match the city part alone when it is unambiguous.
    by_city: dict[str, list[str]] = {}
    for lowered, canonical in names.items():
        by_city.setdefault(lowered.rsplit("/", 1)[-1], []).append(canonical)
    city = key.rsplit("/", 1)[-1]
    if len(by_city.get(city, [])) == 1:
        return by_city[city][0]
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.8)
    if close:
        return names[close[0]]
    close_city = difflib.get_close_matches(city, list(by_city), n=1, cutoff=0.85)
    if close_city and len(by_city[close_city[0]]) == 1:
        return by_city[close_city[0]][0]
    return None


def validate_timezone(name: str) -> str:
    """Return the canonical IANA name, or raise :class:`UnknownTimezone` (a ValueError) with a suggestion."""
    cleaned = (name or "").strip()
    if _is_place_name(cleaned) and _loads(cleaned):
        return cleaned
    raise UnknownTimezone(cleaned, suggest_timezone(cleaned))


def zone(name: str) -> ZoneInfo:
    """A ZoneInfo for a stored chat time zone; an unknown name (never expected) raises UnknownTimezone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise UnknownTimezone(name, suggest_timezone(name)) from exc


# --- resolving local wall times ----------------------------------------------------------------------------


def _require_aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def _wall(moment_utc: datetime, tz: ZoneInfo) -> datetime:
    """Local wall-clock time of an instant, without tzinfo (comparable to other wall times)."""
    return moment_utc.astimezone(tz).replace(tzinfo=None)


def resolve_local(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant at which the local clock in ``tz`` first shows ``day at``.

    A wall time inside a spring-forward gap never shows; it resolves to the end of the gap.
    """
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if _wall(first, tz) == wall:
        return first
    # In a gap fold=0 maps with the old offset (past the jump) and fold=1 with the new one (before it):
    # the jump itself lies between; find it to the second (transitions are on whole seconds).
    low = int(wall.replace(tzinfo=tz, fold=1).astimezone(UTC).timestamp())
    high = int(first.timestamp())
    if low > high:
        low, high = high, low
    while low < high:
        middle = (low + high) // 2
        if _wall(datetime.fromtimestamp(middle, UTC), tz) >= wall:
            high = middle
        else:
            low = middle + 1
    return datetime.fromtimestamp(high, UTC)


def _next_local(at: time, tz: ZoneInfo, after_utc: datetime) -> datetime:
    """The first instant strictly after ``after_utc`` at which the local clock reaches ``at``."""
    today = _wall(after_utc, tz).date()
    for offset in range(-1, 3):
        candidate = resolve_local(today + timedelta(days=offset), at, tz)
        if candidate > after_utc:
            return candidate
    raise AssertionError("a local time of day always recurs within three days")  # pragma: no cover


def _next_local_hour(tz: ZoneInfo, after_utc: datetime) -> datetime:
    """The first instant strictly after ``after_utc`` at which the local clock shows a full hour.

    Stepping in whole minutes of UTC keeps this right for half-hour zones (Asia/Kolkata) and for
    transitions that shift by 30 minutes (Australia/Lord_Howe); it needs at most ~90 steps.
    """
    step = after_utc.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(24 * 60):
        local = step.astimezone(tz)
        if local.minute == 0:
            return step
        step += timedelta(minutes=1)
    raise AssertionError("every zone shows a full hour at least once a day")  # pragma: no cover


# --- digests -----------------------------------------------------------------------------------------------


def next_digest_at(mode: Mode, digest_time: str, tz: str, after: datetime) -> datetime | None:
    """When the next digest fires (UTC), strictly after ``after``; None for instant mode.

    Hourly digests fire at every full local hour (each real hour once, also in the repeated fall-back
    hour); daily ones at the chat's local ``digest_time``.
    """
    after_utc = _require_aware(after, "after")
    mode = Mode(mode)
    if mode is Mode.INSTANT:
        return None
    tzinfo = zone(tz)
    if mode is Mode.HOURLY:
        return _next_local_hour(tzinfo, after_utc)
    return _next_local(parse_hhmm(digest_time), tzinfo, after_utc)


def missed_digest(mode: Mode, digest_time: str, tz: str, last_digest_at: datetime | None, now: datetime) -> bool:
    """Whether a digest came due between the last one sent and ``now`` (the bot was down): send one.

    With no digest ever sent there is nothing to compare with, so nothing counts as missed; the caller
    stamps ``last_digest_at`` when a chat switches to a digest mode.
    """
    now_utc = _require_aware(now, "now")
    if last_digest_at is None:
        return False
    due = next_digest_at(mode, digest_time, tz, _require_aware(last_digest_at, "last_digest_at"))
    return due is not None and due <= now_utc


# --- quiet hours -------------------------------------------------------------------------------------------


def _as_time(value: time | str) -> time:
    return value if isinstance(value, time) else parse_hhmm(value)


def quiet_window(now: datetime, tz: str, start: time | str, end: time | str) -> tuple[datetime, datetime] | None:
    """The quiet period ``[begins, ends)`` (UTC) that contains ``now``, or None outside quiet hours.

    Periods are built from instants, not wall times, so the repeated fall-back hour cannot make quiet
    time start a second time in the same night.
    """
    now_utc = _require_aware(now, "now")
    begin_at, end_at = _as_time(start), _as_time(end)
    if begin_at == end_at:
        return None
    tzinfo = zone(tz)
    today = _wall(now_utc, tz=tzinfo).date()
    for day in (today - timedelta(days=1), today):
        begins = resolve_local(day, begin_at, tzinfo)
        ends = _next_local(end_at, tzinfo, begins)
        if begins <= now_utc < ends:
            return begins, ends
    return None


def in_quiet_hours(now: datetime, tz: str, start: time | str | None, end: time | str | None) -> bool:
    """Whether ``now`` falls in the chat's quiet hours (``start``–``end`` local, may cross midnight)."""
    if start is None or end is None:
        return False
    return quiet_window(now, tz, start, end) is not None


def quiet_ends_at(now: datetime, tz: str, start: time | str, end: time | str) -> datetime:
    """When the current quiet period ends (UTC); ``now`` itself (in UTC) if it is not quiet time."""
    window = quiet_window(now, tz, start, end)
    return window[1] if window else _require_aware(now, "now")
