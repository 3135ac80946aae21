"""The feed use cases handlers and the scheduler call, wired from the client, the poller and the admin."""

from __future__ import annotations

import builtins
import random
from typing import TYPE_CHECKING

from bot.core.clock import Clock
from bot.core.feeds.results import OpmlImport
from bot.core.i18n import Translator
from bot.core.models import Feed
from bot.services.feeds.admin import FeedAdmin
from bot.services.feeds.http import AddressPolicy, FeedFetcher
from bot.services.feeds.polling import FeedPoller, NotifyAdmins, PollerParts
from bot.storage.feeds import FeedRepository
from bot.storage.store import Storage
from config.settings import FeedSettings

if TYPE_CHECKING:
    from aiohttp.abc import AbstractResolver

    from bot.services.ingest import IngestService


class FeedService(FeedPoller):
    """Adds, lists, removes and polls feeds; hands new items to :class:`IngestService`."""

    def __init__(
        self,
        storage: Storage,
        settings: FeedSettings,
        ingest: IngestService,
        clock: Clock,
        notify_admins: NotifyAdmins,
        *,
        address_policy: AddressPolicy | None = None,
        rng: random.Random | None = None,
        translator: Translator | None = None,
        resolver: AbstractResolver | None = None,
    ) -> None:
        repo = FeedRepository(storage.db)
        fetcher = FeedFetcher(settings, address_policy, resolver)
        # Admin notices go to every admin at once, so they are in the default language.
        parts = PollerParts(
            repo, settings, ingest, clock, fetcher, notify_admins, translator or Translator(), rng or random.Random()
        )
        super().__init__(parts)
        self._admin = FeedAdmin(repo, settings, clock, fetcher)

    async def start(self) -> None:
        await self._fetcher.start()
        await self._refresh_next_due()

    async def close(self) -> None:
        await self._fetcher.close()

    async def add(self, url: str, added_by: str) -> Feed:
        """Validate and store the feed, then poll it at once. A disabled feed added again is re-enabled.
        Raises :class:`FeedError` for a bad or refused URL, :class:`FeedExists` for an active duplicate."""
        feed = await self._admin.add(url, added_by)
        await self.poll(feed)
        await self._refresh_next_due()
        return await self._admin.require(feed.id)

    async def list(self) -> builtins.list[Feed]:
        return await self._admin.list()

    async def remove(self, position: int) -> Feed | None:
        """Remove the feed at 1-based ``position`` of :meth:`list`; ``None`` if there is no such feed."""
        removed = await self._admin.remove(position)
        if removed is not None:
            await self._refresh_next_due()
        return removed

    async def import_opml(self, data: bytes) -> OpmlImport:
        """Add every feed of an OPML file; they are due at once."""
        result = await self._admin.import_opml(data)
        await self._refresh_next_due()
        return result

    async def export_opml(self) -> bytes:
        return await self._admin.export_opml()
