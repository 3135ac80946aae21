"""Digest times, quiet hours and missed digests in local time, across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.alerts.schedule import (
    UnknownTimezone,
    in_quiet_hours,
    missed_digest,
    next_digest_at,
    parse_hhmm,
    parse_quiet,
    quiet_ends_at,
    resolve_local,
    validate_timezone,
)
from bot.core.models import Mode

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(tz: str, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz), fold=fold)


def chain(mode: Mode, digest_time: str, tz: str, after: datetime, count: int) -> list[datetime]:
    moments = []
    for _ in range(count):
        after = next_digest_at(mode, digest_time, tz, after)
        assert after is not None
        moments.append(after)
    return moments


# --- parsing -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [("08:00", time(8)), ("8:05", time(8, 5)), (" 23:59 ", time(23, 59))])
def test_parse_hhmm_accepts_times_of_day(text: str, expected: time) -> None:
    assert parse_hhmm(text) == expected


@pytest.mark.parametrize("text", ["", "8", "24:00", "12:60", "noon", "12:5", "-1:00"])
def test_parse_hhmm_rejects_with_a_readable_message(text: str) -> None:
    with pytest.raises(ValueError, match="time of day"):
        parse_hhmm(text)


def test_parse_quiet_ranges_and_off() -> None:
    assert parse_quiet("22:00-07:00") == (time(22), time(7))
    assert parse_quiet("22:00 – 7:00") == (time(22), time(7))
    assert parse_quiet("off") is None
    assert parse_quiet("OFF") is None


@pytest.mark.parametrize(("text", "message"), [("22:00", "range"), ("22:00-", "range"), ("9:00-9:00", "different")])
def test_parse_quiet_rejects_bad_ranges(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_quiet(text)


def test_validate_timezone_accepts_iana_names() -> None:
    assert validate_timezone("Europe/Berlin") == "Europe/Berlin"
    assert validate_timezone(" America/New_York ") == "America/New_York"
    assert validate_timezone("UTC") == "UTC"
    assert validate_timezone("Etc/GMT+5") == "Etc/GMT+5"
    assert validate_timezone("America/Argentina/Buenos_Aires") == "America/Argentina/Buenos_Aires"


@pytest.mark.parametrize(
    ("typed", "suggestion"),
    [
        ("europe/berlin", "Europe/Berlin"),
        ("Europe/Berln", "Europe/Berlin"),
        ("berlin", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("utc", "UTC"),
    ],
)
def test_validate_timezone_suggests_close_names(typed: str, suggestion: str) -> None:
    with pytest.raises(UnknownTimezone) as caught:
        validate_timezone(typed)
    assert caught.value.suggestion == suggestion
    assert suggestion in str(caught.value)


@pytest.mark.parametrize(
    "typed",
    ["Mars/Olympus_Mons", "", "../../etc/passwd", "Factory", "Europe", "right/UTC", "zone.tab", "/etc/localtime"],
)
def test_validate_timezone_rejects_nonsense_without_traceback_material(typed: str) -> None:
    with pytest.raises(ValueError, match=r"unknown time zone|no time zone given"):
        validate_timezone(typed)


# --- daily digests across DST ------------------------------------------------------------------------------


def test_daily_0800_berlin_keeps_local_time_across_spring_forward() -> None:
    fired = chain(Mode.DAILY, "08:00", BERLIN, utc(2026, 3, 27, 12), 3)
    assert fired == [utc(2026, 3, 28, 7), utc(2026, 3, 29, 6), utc(2026, 3, 30, 6)]
    assert all(moment.astimezone(ZoneInfo(BERLIN)).time() == time(8) for moment in fired)


def test_daily_0800_berlin_keeps_local_time_across_fall_back() -> None:
    fired = chain(Mode.DAILY, "08:00", BERLIN, utc(2026, 10, 23, 12), 3)
    assert fired == [utc(2026, 10, 24, 6), utc(2026, 10, 25, 7), utc(2026, 10, 26, 7)]


def test_daily_0230_berlin_fires_at_end_of_gap_on_spring_forward() -> None:
    # 02:30 does not exist on 29 March 2026: the clocks jump from 02:00 CET to 03:00 CEST (01:00 UTC).
    fired = chain(Mode.DAILY, "02:30", BERLIN, utc(2026, 3, 28, 12), 2)
    assert fired == [utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30)]
    assert fired[0].astimezone(ZoneInfo(BERLIN)).time() == time(3)


def test_daily_0230_berlin_fires_once_in_repeated_hour() -> None:
    fired = chain(Mode.DAILY, "02:30", BERLIN, utc(2026, 10, 24, 12), 2)
    # First 02:30 (CEST, 00:30 UTC); the second 02:30 (CET, 01:30 UTC) is skipped.
    assert fired == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]


def test_daily_new_york_spring_forward_and_fall_back() -> None:
    assert chain(Mode.DAILY, "02:30", NEW_YORK, utc(2026, 3, 7, 12), 2) == [utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30)]
    assert chain(Mode.DAILY, "08:00", NEW_YORK, utc(2026, 3, 7, 12), 2) == [utc(2026, 3, 7, 13), utc(2026, 3, 8, 12)]
    # 01:30 happens twice on 1 November 2026 (EDT 05:30 UTC, EST 06:30 UTC): once only.
    assert chain(Mode.DAILY, "01:30", NEW_YORK, utc(2026, 10, 31, 12), 2) == [
        utc(2026, 11, 1, 5, 30),
        utc(2026, 11, 2, 6, 30),
    ]
    assert chain(Mode.DAILY, "08:00", NEW_YORK, utc(2026, 10, 31, 13), 2) == [
        utc(2026, 11, 1, 13),
        utc(2026, 11, 2, 13),
    ]


def test_daily_is_strictly_after() -> None:
    at_eight = utc(2026, 1, 5, 7)  # 08:00 in Berlin
    assert next_digest_at(Mode.DAILY, "08:00", BERLIN, at_eight) == utc(2026, 1, 6, 7)
    assert next_digest_at(Mode.DAILY, "08:00", BERLIN, at_eight - timedelta(seconds=1)) == at_eight


# --- hourly ------------------------------------------------------------------------------------------------


def test_hourly_fires_every_real_hour_through_fall_back() -> None:
    fired = chain(Mode.HOURLY, "08:00", BERLIN, utc(2026, 10, 24, 22, 30), 6)
    assert fired == [utc(2026, 10, 24, 23) + timedelta(hours=h) for h in range(6)]
    local_hours = [moment.astimezone(ZoneInfo(BERLIN)).hour for moment in fired]
    assert local_hours == [1, 2, 2, 3, 4, 5]  # the repeated 02:00 hour counts as the real hour it is


def test_hourly_skips_the_missing_hour_on_spring_forward() -> None:
    fired = chain(Mode.HOURLY, "08:00", NEW_YORK, utc(2026, 3, 8, 5, 10), 4)
    assert fired == [utc(2026, 3, 8, 6), utc(2026, 3, 8, 7), utc(2026, 3, 8, 8), utc(2026, 3, 8, 9)]
    assert [moment.astimezone(ZoneInfo(NEW_YORK)).hour for moment in fired] == [1, 3, 4, 5]


def test_hourly_follows_local_full_hours_in_half_hour_zones() -> None:
    assert next_digest_at(Mode.HOURLY, "08:00", "Asia/Kolkata", utc(2026, 5, 1, 10, 10)) == utc(2026, 5, 1, 10, 30)


def test_instant_has_no_digest_and_naive_times_are_refused() -> None:
    assert next_digest_at(Mode.INSTANT, "08:00", BERLIN, utc(2026, 1, 1)) is None
    with pytest.raises(ValueError, match="aware"):
        next_digest_at(Mode.DAILY, "08:00", BERLIN, datetime(2026, 1, 1))


ZONES = st.sampled_from([BERLIN, NEW_YORK, "Australia/Lord_Howe", "Asia/Kolkata", "UTC", "America/Santiago"])


@settings(max_examples=300, deadline=None)
@given(
    tz=ZONES,
    after=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)),
    at=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_daily_digest_properties(tz: str, after: datetime, at: time) -> None:
    first = next_digest_at(Mode.DAILY, at.strftime("%H:%M"), tz, after)
    assert first is not None and first.tzinfo is UTC
    assert after < first <= after + timedelta(hours=26)
    shown = first.astimezone(ZoneInfo(tz))
    if shown.time() != at:
        # Only a wall time inside a DST gap may fire at another local time: at the end of the gap.
        assert shown.replace(tzinfo=None).time() > at
        before = (first - timedelta(seconds=1)).astimezone(ZoneInfo(tz))
        assert before.utcoffset() != shown.utcoffset()
    second = next_digest_at(Mode.DAILY, at.strftime("%H:%M"), tz, first)
    assert second is not None and second - first >= timedelta(hours=22)  # once a day, never twice


# --- missed digests ----------------------------------------------------------------------------------------


def test_missed_daily_digest_after_downtime() -> None:
    last = utc(2026, 3, 10, 7)  # 08:00 CET
    assert not missed_digest(Mode.DAILY, "08:00", BERLIN, last, utc(2026, 3, 11, 6, 59))
    assert missed_digest(Mode.DAILY, "08:00", BERLIN, last, utc(2026, 3, 11, 7))
    assert missed_digest(Mode.DAILY, "08:00", BERLIN, last, utc(2026, 3, 14, 12))


def test_missed_daily_digest_across_spring_forward() -> None:
    # The 29 March digest is due at 08:00 CEST = 06:00 UTC, an hour earlier in UTC than the day before.
    last = utc(2026, 3, 28, 7)
    assert missed_digest(Mode.DAILY, "08:00", BERLIN, last, utc(2026, 3, 29, 6, 30))
    assert not missed_digest(Mode.DAILY, "08:00", BERLIN, last, utc(2026, 3, 29, 5, 59))


def test_missed_hourly_digest_and_modes_without_digests() -> None:
    last = utc(2026, 6, 1, 10)
    assert not missed_digest(Mode.HOURLY, "08:00", BERLIN, last, utc(2026, 6, 1, 10, 59))
    assert missed_digest(Mode.HOURLY, "08:00", BERLIN, last, utc(2026, 6, 1, 11))
    assert not missed_digest(Mode.INSTANT, "08:00", BERLIN, last, utc(2026, 6, 9))
    assert not missed_digest(Mode.DAILY, "08:00", BERLIN, None, utc(2026, 6, 9))


# --- quiet hours -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wall", "quiet"),
    [
        ((21, 59), False),
        ((22, 0), True),
        ((23, 30), True),
        ((0, 0), True),
        ((3, 0), True),
        ((6, 59), True),
        ((7, 0), False),
        ((12, 0), False),
    ],
)
def test_quiet_hours_over_midnight(wall: tuple[int, int], quiet: bool) -> None:
    now = local(BERLIN, 2026, 6, 10, *wall)
    assert in_quiet_hours(now, BERLIN, time(22), time(7)) is quiet


def test_quiet_hours_within_one_day_and_off() -> None:
    assert in_quiet_hours(local(BERLIN, 2026, 6, 10, 12, 30), BERLIN, "12:00", "13:00")
    assert not in_quiet_hours(local(BERLIN, 2026, 6, 10, 13, 0), BERLIN, "12:00", "13:00")
    assert not in_quiet_hours(local(BERLIN, 2026, 6, 10, 23, 0), BERLIN, None, None)


def test_quiet_ends_at_next_local_end() -> None:
    assert quiet_ends_at(local(BERLIN, 2026, 6, 10, 23, 30), BERLIN, time(22), time(7)) == utc(2026, 6, 11, 5)
    assert quiet_ends_at(local(BERLIN, 2026, 6, 11, 3, 0), BERLIN, time(22), time(7)) == utc(2026, 6, 11, 5)
    outside = local(BERLIN, 2026, 6, 11, 9, 0)
    assert quiet_ends_at(outside, BERLIN, time(22), time(7)) == outside.astimezone(UTC)


def test_quiet_night_of_spring_forward_ends_at_local_seven() -> None:
    now = local(BERLIN, 2026, 3, 28, 23, 0)
    assert quiet_ends_at(now, BERLIN, time(22), time(7)) == utc(2026, 3, 29, 5)  # 07:00 CEST


def test_quiet_does_not_restart_in_repeated_fall_back_hour() -> None:
    # Quiet 01:00–02:30 on 25 October 2026: it ends at the first 02:30 (CEST); when the clocks show
    # 02:15 again (CET) quiet time is over and stays over.
    start, end = time(1), time(2, 30)
    assert in_quiet_hours(local(BERLIN, 2026, 10, 25, 2, 15), BERLIN, start, end)
    assert quiet_ends_at(local(BERLIN, 2026, 10, 25, 2, 15), BERLIN, start, end) == utc(2026, 10, 25, 0, 30)
    assert not in_quiet_hours(local(BERLIN, 2026, 10, 25, 2, 15, fold=1), BERLIN, start, end)


def test_resolve_local_gap_and_fold() -> None:
    berlin = ZoneInfo(BERLIN)
    assert resolve_local(datetime(2026, 3, 29).date(), time(2, 30), berlin) == utc(2026, 3, 29, 1)
    assert resolve_local(datetime(2026, 10, 25).date(), time(2, 30), berlin) == utc(2026, 10, 25, 0, 30)
