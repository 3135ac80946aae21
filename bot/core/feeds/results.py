"""What feed operations report back to handlers and the command line (plain records, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.models import Feed


class FeedError(Exception):
    """A feed operation that cannot be done; the message is a complete sentence for the admin."""


class FeedExists(FeedError):
    """A feed with this URL is already polled."""

    def __init__(self, feed: Feed) -> None:
        super().__init__(f"feed already added: {feed.url}")
        self.feed = feed


@dataclass(frozen=True, slots=True)
class PollResult:
    feed_id: int
    status: str  # "ok" | "not_modified" | "failed" | "disabled" | "skipped"
    new: int = 0  # articles newly stored
    updated: int = 0  # known items whose text changed (stored as a new version)
    alerted: int = 0  # items handed to alerting (new or substantially changed, outside the backfill)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class OpmlImport:
    added: list[Feed] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)  # URLs already polled
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (url, why)
