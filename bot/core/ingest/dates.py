"""Publication dates as corpora and feeds write them, turned into a calendar date (UTC for timestamps)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_GERMAN = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_EARLIEST_YEAR = 1800
_LATEST_YEAR = 2200
_EPOCH_MS_THRESHOLD = 10**11  # larger epoch numbers are milliseconds


class BadDate(ValueError):
    """A date value we cannot read; the message quotes it."""


@dataclass(frozen=True, slots=True)
class ParsedDate:
    day: date | None
    moment: datetime | None = None  # set when the source gave a time (aware, UTC)


def parse_date(value: object) -> ParsedDate:
    """None/"" → no date; ISO 8601 (date, datetime, "YYYY-MM"), RFC 2822, "DD.MM.YYYY", epoch seconds.

    Raises :class:`BadDate` for anything else or an implausible year.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return ParsedDate(None)
    if isinstance(value, bool):
        raise BadDate(f"unrecognised date {value!r}")
    if isinstance(value, int | float):
        return _from_moment(_from_epoch(value), value)
    if not isinstance(value, str):
        raise BadDate(f"unrecognised date {str(value)[:40]!r}")
    return _parse_text(value.strip())


def _parse_text(text: str) -> ParsedDate:
    if ":" not in text:  # a time of day is never a plain date: spare the exception for timestamps
        try:
            return _from_day(date.fromisoformat(text), text)
        except ValueError:
            pass
    try:
        return _from_moment(datetime.fromisoformat(text.replace("Z", "+00:00")), text)
    except ValueError:
        pass
    for pattern, order in ((_YEAR_MONTH, "ym"), (_GERMAN, "dmy"), (_SLASHED, "ymd")):
        match = pattern.match(text)
        if match:
            parts = dict(zip(order, map(int, match.groups()), strict=True))
            try:
                return _from_day(date(parts["y"], parts["m"], parts.get("d", 1)), text)
            except ValueError:
                raise BadDate(f"impossible date {text[:40]!r}") from None
    try:
        return _from_moment(parsedate_to_datetime(text), text)
    except (TypeError, ValueError, IndexError):
        raise BadDate(f"unrecognised date {text[:40]!r}") from None


def _from_epoch(value: float) -> datetime:
    seconds = value / 1000 if abs(value) >= _EPOCH_MS_THRESHOLD else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadDate(f"unrecognised timestamp {value!r}") from None


def _from_moment(moment: datetime, original: object) -> ParsedDate:
    # A timestamp without a zone is taken as UTC: corpora and feeds overwhelmingly mean UTC.
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    _check_year(moment.year, original)
    return ParsedDate(moment.date(), moment)


def _from_day(day: date, original: object) -> ParsedDate:
    _check_year(day.year, original)
    return ParsedDate(day)


def _check_year(year: int, original: object) -> None:
    if not _EARLIEST_YEAR <= year <= _LATEST_YEAR:
        raise BadDate(f"implausible date {str(original)[:40]!r}")
