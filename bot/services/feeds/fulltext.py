"""Replacing a teaser-only feed item's text with the main text of the page it links to."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence

from bot.core.ingest import ParsedItem
from bot.core.models import ArticleDraft
from bot.services.feeds.documents import extract_main_text
from bot.services.feeds.http import PAGE_ACCEPT, FeedFetcher, FetchError

log = logging.getLogger(__name__)

# Full-text fetching costs one request per item; a first poll of a 100-item feed should not turn into a
# burst of 100 page loads, so beyond this many the remaining items keep their teaser.
MAX_FULL_TEXT_PER_POLL = 20


class FullTextFetcher:
    """Fetches linked pages through the shared safe client; any failure keeps the teaser."""

    def __init__(self, fetcher: FeedFetcher, enabled: bool) -> None:
        self._fetcher = fetcher
        self._enabled = enabled

    async def fill_drafts(self, drafts: Sequence[ArticleDraft]) -> list[ArticleDraft]:
        """The drafts with full text where it was fetched (at most :data:`MAX_FULL_TEXT_PER_POLL` pages)."""
        if not self._enabled:
            return [*drafts]
        budget = MAX_FULL_TEXT_PER_POLL
        result = []
        for draft in drafts:
            if draft.teaser_only and draft.url and budget > 0:
                budget -= 1
                draft = await self.full_text(draft)
            result.append(draft)
        return result

    async def fill_items(self, items: Sequence[ParsedItem]) -> list[ParsedItem]:
        drafts = [item.draft for item in items if item.draft is not None]
        filled = iter(await self.fill_drafts(drafts))
        return [item if item.draft is None else dataclasses.replace(item, draft=next(filled)) for item in items]

    async def full_text(self, draft: ArticleDraft) -> ArticleDraft:
        """The linked page's main text when it is longer than the teaser; the teaser when anything fails."""
        assert draft.url is not None
        try:
            page = await self._fetcher.fetch(draft.url, accept=PAGE_ACCEPT)
            text = await asyncio.to_thread(extract_main_text, page.body, page.url)
        except FetchError as exc:
            log.info("full text of %s not fetched: %s", draft.url, exc)
            return draft
        except Exception:
            log.warning("full text of %s could not be extracted", draft.url, exc_info=True)
            return draft
        if not text or len(text) <= len(draft.body):
            return draft
        return dataclasses.replace(draft, body=text, teaser_only=False)
