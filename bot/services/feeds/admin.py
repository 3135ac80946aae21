"""Feed administration: adding (validated and resolved first), listing, removing, OPML import/export."""

from __future__ import annotations

import asyncio
import builtins
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.core.clock import Clock
from bot.core.feeds import (
    OpmlError,
    OpmlFeed,
    UnsafeUrl,
    check_feed_url,
    export_opml,
    literal_address,
    parse_opml,
)
from bot.core.feeds.results import FeedError, FeedExists, OpmlImport
from bot.core.models import Feed
from bot.services.feeds.http import FeedFetcher, FetchError
from bot.storage.feeds import FeedRepository
from config.settings import FeedSettings


@dataclass(eq=False)
class FeedAdmin:
    """The feed list as admins change it; polling a new feed is the caller's next step."""

    repo: FeedRepository
    settings: FeedSettings
    clock: Clock
    fetcher: FeedFetcher

    async def add(self, url: str, added_by: str) -> Feed:
        """Validate and store the feed; a disabled feed added again is re-enabled.
        Raises :class:`FeedError` for a bad or refused URL, :class:`FeedExists` for an active duplicate."""
        try:
            url = check_feed_url(url)
        except UnsafeUrl as exc:
            raise FeedError(str(exc)) from None
        try:
            await self.fetcher.check_host(url)
        except FetchError as exc:
            raise FeedError(str(exc)) from None
        now = self.clock.now()
        try:
            return await self.repo.add(url, poll_seconds=self.settings.poll_seconds, now=now, added_by=added_by)
        except FeedExists as exc:
            if exc.feed.enabled:
                raise
            await self.repo.enable(exc.feed.id, now=now)
            return await self.require(exc.feed.id)

    async def list(self) -> builtins.list[Feed]:
        return await self.repo.all()

    async def remove(self, position: int) -> Feed | None:
        """Remove the feed at 1-based ``position`` of :meth:`list`; ``None`` if there is no such feed.
        Its stored articles stay in the archive."""
        feeds = await self.repo.all()
        if not 1 <= position <= len(feeds):
            return None
        feed = feeds[position - 1]
        await self.repo.delete(feed.id)
        return feed

    async def import_opml(self, data: bytes) -> OpmlImport:
        """Add every feed of an OPML file; they are due at once (the scheduler polls them with the usual
        per-host limits instead of a burst here)."""
        try:
            entries = await asyncio.to_thread(parse_opml, data)
        except OpmlError as exc:
            raise FeedError(str(exc)) from None
        result = OpmlImport()
        now = self.clock.now()
        for entry in entries:
            try:
                url = self._checked(entry.url)
            except UnsafeUrl as exc:
                result.rejected.append((entry.url, str(exc)))
                continue
            title = entry.title if entry.title and entry.title != url else None
            try:
                feed = await self.repo.add(
                    url, poll_seconds=self.settings.poll_seconds, now=now, added_by="opml", title=title
                )
            except FeedExists:
                result.existing.append(url)
                continue
            result.added.append(feed)
        return result

    async def export_opml(self) -> bytes:
        feeds = await self.repo.all()
        return export_opml([OpmlFeed(f.url, f.title) for f in feeds], created=self.clock.now())

    async def require(self, feed_id: int) -> Feed:
        feed = await self.repo.get(feed_id)
        if feed is None:
            raise FeedError("the feed was removed meanwhile")
        return feed

    def _checked(self, url: str) -> str:
        """The canonical URL, or :class:`UnsafeUrl` (host names are resolved when polled, not here: an
        OPML file may list hundreds)."""
        url = check_feed_url(url)
        literal = literal_address(urlsplit(url).hostname or "")
        why = self.fetcher.refusal(literal) if literal is not None else None
        if why:
            raise UnsafeUrl(why)
        return url
