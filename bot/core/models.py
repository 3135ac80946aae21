"""Plain domain records shared by every layer; nothing changes one after it is made."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


# Records an import builds for every article are not frozen: a frozen dataclass sets each field through
# object.__setattr__, seven times what a plain one costs to build (1.0 against 0.15 µs for eleven fields), and
# the RSS corpus built over a million of them in the interpreter the matching and writing threads share.
# Nothing assigns to them after construction, and equal records hash equal (``unsafe_hash``), as before.
@dataclass(slots=True, unsafe_hash=True)
class ArticleDraft:
    """An article as parsed from a file or feed, before it is stored."""

    title: str
    body: str
    lang: str
    published: date | None = None
    source: str | None = None
    url: str | None = None
    guid: str | None = None
    teaser_only: bool = False


@dataclass(slots=True, unsafe_hash=True)  # not frozen: see ArticleDraft
class Article:
    id: int
    content_hash: str
    title: str
    body: str
    lang: str
    published: date | None
    source: str | None
    url: str | None
    ingested_at: datetime
    guid: str | None = None
    teaser_only: bool = False


class Mode(StrEnum):
    INSTANT = "instant"
    HOURLY = "hourly"
    DAILY = "daily"


@dataclass(frozen=True, slots=True)
class ChatKey:
    """A chat as the platforms know it: ``("telegram", "-100123")`` or ``("matrix", "!room:server")``."""

    platform: str
    chat_id: str


@dataclass(frozen=True, slots=True)
class Chat:
    id: int
    platform: str
    chat_id: str
    lang: str
    timezone: str
    mode: Mode
    digest_time: str  # "HH:MM" local time of the daily digest
    quiet_start: str | None  # "HH:MM" or None
    quiet_end: str | None
    active: bool
    is_group: bool
    title: str | None = None
    last_digest_at: datetime | None = None

    @property
    def key(self) -> ChatKey:
        return ChatKey(self.platform, self.chat_id)


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    chat_id: int  # Chat.id
    query: str
    created_at: datetime


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # retried with backoff
    DROPPED = "dropped"  # chat deactivated; kept for the record


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    chat_id: int
    article_id: int
    subscription_id: int | None
    query: str
    reason: str  # short human explanation: "Putin (Kremlchef, Putins)"
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None = None
    message_id: int | None = None  # the digest/alert message that carried it
    batch: str | None = None  # while waiting: the batch of an earlier send that may have arrived (retried as is)


@dataclass(frozen=True, slots=True)
class Feed:
    id: int
    url: str
    title: str | None
    etag: str | None
    last_modified: str | None
    poll_seconds: int
    next_poll_at: datetime
    last_fetch_at: datetime | None
    last_error: str | None
    failures: int
    items_seen: int
    enabled: bool
    first_poll_done: bool
    added_by: str | None = None


@dataclass(slots=True, unsafe_hash=True)  # not frozen: see ArticleDraft
class IngestOutcome:
    """What happened to one input (file, line, feed item)."""

    source: str  # file path, "file.jsonl:17", feed URL
    status: str  # "new" | "duplicate" | "rejected" | "repaired"
    reason: str = ""
    article_id: int | None = None
    title: str | None = None


@dataclass(slots=True)
class IngestReport:
    outcomes: list[IngestOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def new_ids(self) -> list[int]:
        return [o.article_id for o in self.outcomes if o.status == "new" and o.article_id is not None]

    def extend(self, other: IngestReport) -> None:
        self.outcomes.extend(other.outcomes)
