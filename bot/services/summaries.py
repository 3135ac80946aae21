"""Summary bullets of one article, focused on a query: what /latest, /subscribe and alerts show.

The bullets come from the delivery side's cache (one summary per article and focus, shared with alerts), so
a card in a reply reads exactly like the alert for the same article.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.core.models import Article

BulletSource = Callable[[Article, str | None], Awaitable[list[str]]]


class SummaryService:
    def __init__(self, source: BulletSource) -> None:
        self._source = source

    async def bullets(self, article: Article, focus: str | None = None) -> list[str]:
        """Bullets for ``article``; ``focus`` (a subscription query) puts the sentences about it first."""
        return await self._source(article, focus or None)
