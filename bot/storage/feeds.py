"""Polled feeds and the items seen in them (which GUID became which article version)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.feeds.results import FeedExists
from bot.core.models import Feed
from bot.storage.sql import Row, SqlDatabase, from_db_time, marks, to_db_time

_COLUMNS = (
    "id, url, title, etag, last_modified, poll_seconds, next_poll_at, last_fetch_at, last_error, failures,"
    " items_seen, enabled, first_poll_done, added_by"
)
_ITEM_CHUNK = 400


@dataclass(frozen=True, slots=True)
class FeedItemState:
    """What the feed said about one item when it was last stored."""

    key: str
    fingerprint: str
    article_id: int | None
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class FetchedState:
    """The outcome of a successful fetch, written back to the feed row."""

    title: str | None
    etag: str | None
    last_modified: str | None
    poll_seconds: int
    next_poll_at: datetime


def _row_to_feed(row: Row) -> Feed:
    return Feed(
        id=row["id"],
        url=row["url"],
        title=row["title"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        poll_seconds=row["poll_seconds"],
        next_poll_at=from_db_time(row["next_poll_at"]),  # type: ignore[arg-type]
        last_fetch_at=from_db_time(row["last_fetch_at"]),
        last_error=row["last_error"],
        failures=row["failures"],
        items_seen=row["items_seen"],
        enabled=bool(row["enabled"]),
        first_poll_done=bool(row["first_poll_done"]),
        added_by=row["added_by"],
    )


class FeedRepository:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def add(
        self, url: str, *, poll_seconds: int, now: datetime, added_by: str | None, title: str | None = None
    ) -> Feed:
        """Insert a feed due at ``now``; raise :class:`FeedExists` if the URL is already there."""
        async with self._db.transaction() as tx:
            feed_id = await tx.fetch_val(
                "INSERT INTO feeds(url, title, poll_seconds, next_poll_at, added_by, created_at)"
                " VALUES (?,?,?,?,?,?) ON CONFLICT(url) DO NOTHING RETURNING id",
                (url, title, poll_seconds, to_db_time(now), added_by, to_db_time(now)),
            )
        if feed_id is None:
            existing = await self.by_url(url)
            if existing is not None:  # else deleted in between: add it again
                raise FeedExists(existing)
            return await self.add(url, poll_seconds=poll_seconds, now=now, added_by=added_by, title=title)
        feed = await self.get(feed_id)
        assert feed is not None
        return feed

    async def get(self, feed_id: int) -> Feed | None:
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} FROM feeds WHERE id = ?", (feed_id,))
        return _row_to_feed(row) if row else None

    async def by_url(self, url: str) -> Feed | None:
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} FROM feeds WHERE url = ?", (url,))
        return _row_to_feed(row) if row else None

    async def all(self) -> list[Feed]:
        """Every feed in the order they were added (the numbering ``feeds`` shows)."""
        return [_row_to_feed(r) for r in await self._db.fetch_all(f"SELECT {_COLUMNS} FROM feeds ORDER BY id")]

    async def due(self, now: datetime) -> list[Feed]:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM feeds WHERE enabled = 1 AND next_poll_at <= ? ORDER BY next_poll_at, id",
            (to_db_time(now),),
        )
        return [_row_to_feed(r) for r in rows]

    async def next_due_at(self) -> datetime | None:
        return from_db_time(await self._db.fetch_val("SELECT MIN(next_poll_at) FROM feeds WHERE enabled = 1"))

    async def delete(self, feed_id: int) -> bool:
        async with self._db.transaction() as tx:
            return await tx.run("DELETE FROM feeds WHERE id = ?", (feed_id,)) == 1

    async def record_not_modified(
        self, feed_id: int, *, now: datetime, poll_seconds: int, next_poll_at: datetime
    ) -> None:
        async with self._db.transaction() as tx:
            await tx.run(
                "UPDATE feeds SET last_fetch_at = ?, last_error = NULL, failures = 0, poll_seconds = ?,"
                " next_poll_at = ? WHERE id = ?",
                (to_db_time(now), poll_seconds, to_db_time(next_poll_at), feed_id),
            )

    async def record_failure(
        self, feed_id: int, *, error: str, next_poll_at: datetime, max_failures: int
    ) -> Feed | None:
        """Count one more consecutive failure; disable the feed when it reaches ``max_failures``."""
        async with self._db.transaction() as tx:
            await tx.run(
                "UPDATE feeds SET last_error = ?, failures = failures + 1, next_poll_at = ?,"
                " enabled = CASE WHEN failures + 1 >= ? THEN 0 ELSE enabled END WHERE id = ?",
                (error[:500], to_db_time(next_poll_at), max_failures, feed_id),
            )
        return await self.get(feed_id)

    async def enable(self, feed_id: int, *, now: datetime) -> None:
        async with self._db.transaction() as tx:
            await tx.run(
                "UPDATE feeds SET enabled = 1, failures = 0, next_poll_at = ? WHERE id = ?",
                (to_db_time(now), feed_id),
            )

    async def item_states(self, feed_id: int, keys: Sequence[str]) -> dict[str, FeedItemState]:
        found: dict[str, FeedItemState] = {}
        for start in range(0, len(keys), _ITEM_CHUNK):
            chunk = list(keys[start : start + _ITEM_CHUNK])
            rows = await self._db.fetch_all(
                "SELECT guid, content_hash, article_id, title, body FROM feed_items"
                f" WHERE feed_id = ? AND guid IN ({marks(len(chunk))})",
                (feed_id, *chunk),
            )
            for row in rows:
                found[row[0]] = FeedItemState(row[0], row[1], row[2], row[3], row[4])
        return found

    async def record_fetch(
        self,
        feed_id: int,
        *,
        now: datetime,
        state: FetchedState,
        items: Sequence[FeedItemState],
        listed: Sequence[str],
        forget_before: datetime,
    ) -> None:
        """After a successful fetch, in one transaction (a crash cannot leave items recorded under stale
        validators, or the reverse): store the new/changed ``items``, mark every ``listed`` key as seen now,
        forget items unlisted since ``forget_before``, and update the feed row."""
        stamp = to_db_time(now)
        async with self._db.transaction() as tx:
            await tx.run_many(
                "INSERT INTO feed_items(feed_id, guid, content_hash, article_id, first_seen, updated_at,"
                " title, body, last_seen) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(feed_id, guid) DO UPDATE SET"
                " content_hash = excluded.content_hash,"
                " article_id = COALESCE(excluded.article_id, feed_items.article_id),"
                " updated_at = excluded.updated_at, title = excluded.title, body = excluded.body",
                [
                    (feed_id, i.key, i.fingerprint, i.article_id, stamp, stamp, i.title, i.body, stamp)
                    for i in items
                ],
            )
            await tx.run_many(
                "UPDATE feed_items SET last_seen = ? WHERE feed_id = ? AND guid = ?",
                [(stamp, feed_id, key) for key in listed],
            )
            await tx.run(
                "DELETE FROM feed_items WHERE feed_id = ? AND COALESCE(last_seen, updated_at) < ?",
                (feed_id, to_db_time(forget_before)),
            )
            await tx.run(
                "UPDATE feeds SET title = COALESCE(?, title), etag = ?, last_modified = ?, poll_seconds = ?,"
                " next_poll_at = ?, last_fetch_at = ?, last_error = NULL, failures = 0, first_poll_done = 1,"
                " items_seen = (SELECT COUNT(*) FROM feed_items WHERE feed_id = ?) WHERE id = ?",
                (
                    state.title,
                    state.etag,
                    state.last_modified,
                    state.poll_seconds,
                    to_db_time(state.next_poll_at),
                    stamp,
                    feed_id,
                    feed_id,
                ),
            )
