"""Subscribe, list, unsubscribe, and find archive articles for a query."""

from __future__ import annotations

import asyncio
from dataclasses import KW_ONLY, dataclass

from bot.core.clock import Clock
from bot.core.i18n import N_, Refusal
from bot.core.matching import MatchEngine, QueryError, Resolution
from bot.core.models import Article, Chat, OutboxItem, Subscription
from bot.services.pipeline import MatchPipeline, article_text
from bot.storage.outbox import NewOutboxRow
from bot.storage.store import Storage

# How far back "newest matching article" looks when the full-text prefilter finds nothing.
SCAN_NEWEST = 2000
PREFILTER_CANDIDATES = 300


class SubscriptionRefused(Refusal):
    """A subscribe/unsubscribe that changes nothing."""


@dataclass(frozen=True, slots=True)
class Subscribed:
    subscription: Subscription
    resolution: Resolution
    newest: Article | None


@dataclass(eq=False)
class SubscriptionService:
    storage: Storage
    engine: MatchEngine
    pipeline: MatchPipeline
    clock: Clock
    _: KW_ONLY
    max_per_chat: int
    max_query_chars: int

    def resolve(self, query: str, lang: str | None = None) -> Resolution:
        """Validate and explain a query (names in ``lang``); raises :class:`SubscriptionRefused` for bad ones."""
        query = " ".join(query.split())
        if not query:
            raise SubscriptionRefused(N_("The query is empty."))
        if len(query) > self.max_query_chars:
            raise SubscriptionRefused(
                N_("That query is {length} characters long; the limit is {limit}."),
                limit=self.max_query_chars,
                length=len(query),
            )
        try:
            return self.engine.resolve(query, lang)
        except QueryError as exc:
            raise SubscriptionRefused(N_("I could not understand that query: {error}"), error=str(exc)) from None

    async def subscribe(self, chat: Chat, query: str) -> Subscribed:
        resolution = self.resolve(query, chat.lang)
        existing = await self.storage.subscriptions.by_key(chat.id, resolution.key)
        if existing is not None:  # "Waffendeal" when the chat follows "arms deal": name what it follows
            raise SubscriptionRefused(N_("This chat already follows <b>{query}</b>."), query=existing.query)
        if await self.storage.subscriptions.count_for_chat(chat.id) >= self.max_per_chat:
            raise SubscriptionRefused(
                N_("This chat already follows {limit} queries, the maximum. Remove one with {p}unsubscribe first."),
                limit=self.max_per_chat,
            )
        sub = await self.storage.subscriptions.add(chat.id, " ".join(query.split()), resolution.key, self.clock.now())
        if sub is None:
            raise SubscriptionRefused(N_("This chat already follows <b>{query}</b>."), query=query)
        self.pipeline.add(sub)
        newest = await self.find(sub.query, limit=1)
        return Subscribed(sub, resolution, newest[0] if newest else None)

    async def list(self, chat: Chat) -> list[Subscription]:
        return await self.storage.subscriptions.for_chat(chat.id)

    async def unsubscribe(self, chat: Chat, what: str) -> Subscription:
        """By position in ``list`` (1-based) or by the query as typed (case- and space-insensitive)."""
        what = " ".join(what.split())
        if not what:
            raise SubscriptionRefused(N_("Which one? {p}list shows the numbers."))
        subs = await self.list(chat)
        target = _pick(subs, what)
        if target is None:
            raise SubscriptionRefused(
                N_("This chat does not follow <b>{what}</b>. {p}list shows what it follows."), what=_shorten(what)
            )
        self.pipeline.remove(target.id)
        await self._hand_over_unsent(target, [s for s in subs if s.id != target.id])
        await self.storage.subscriptions.remove(target.id)
        return target

    async def _hand_over_unsent(self, removed: Subscription, remaining: list[Subscription]) -> None:
        """Unsent alerts named after the removed query go to another query of the chat that matches the same
        article (one row per chat and article names only one), and are dropped when none does."""
        rows = await self.storage.outbox.unsent_for_subscription(removed.id)
        if not rows:
            return
        articles = {a.id: a for a in await self.storage.articles.get_many([r.article_id for r in rows])}
        changes = await asyncio.to_thread(self._reassign, rows, remaining, articles)
        await self.storage.outbox.reassign_or_drop(changes)

    def _reassign(
        self, rows: list[OutboxItem], remaining: list[Subscription], articles: dict[int, Article]
    ) -> list[tuple[int, NewOutboxRow | None]]:
        changes: list[tuple[int, NewOutboxRow | None]] = []
        for row in rows:
            article = articles.get(row.article_id)
            keep = None
            for sub in remaining if article is not None else ():
                result = self.engine.match(sub.query, article_text(article), article.lang)  # type: ignore[union-attr]
                if result.matched:
                    keep = NewOutboxRow(row.chat_id, row.article_id, sub.id, sub.query, result.reason())
                    break
            changes.append((row.id, keep))
        return changes

    async def find(self, query: str, limit: int = 5) -> list[Article]:
        """Newest archive articles the matching engine accepts for ``query`` (full-text prefilter first)."""
        self.resolve(query)
        terms = self.engine.focus_terms(query)
        candidates: dict[int, Article] = {}
        for term in terms[:40]:
            for article in await self.storage.articles.search(term, PREFILTER_CANDIDATES):
                candidates[article.id] = article
        ordered = sorted(candidates.values(), key=_recency, reverse=True)
        found = await asyncio.to_thread(self._accept, query, ordered, limit)
        if len(found) < limit:
            recent = await self.storage.articles.latest(SCAN_NEWEST)
            seen = {a.id for a in found}
            more = await asyncio.to_thread(
                self._accept, query, [a for a in recent if a.id not in seen], limit - len(found)
            )
            found = sorted([*found, *more], key=_recency, reverse=True)
        return found[:limit]

    def _accept(self, query: str, articles: list[Article], limit: int) -> list[Article]:
        accepted = []
        for article in articles:
            if self.engine.match(query, article_text(article), article.lang).matched:
                accepted.append(article)
                if len(accepted) >= limit:
                    break
        return accepted


def _recency(article: Article) -> tuple[str, int]:
    """The archive's "newest" order: publication date, else the day it was stored; then insertion order."""
    day = article.published.isoformat() if article.published else article.ingested_at.date().isoformat()
    return (day, article.id)


def _pick(subs: list[Subscription], what: str) -> Subscription | None:
    """The query as typed (case-insensitive) first, so a query that is a number ("2024") stays removable;
    then ``3`` = third in the list; ``#17`` = subscription id 17 (what buttons send: stable when the list
    changes)."""
    folded = what.casefold()
    by_text = next((s for s in subs if s.query.casefold() == folded), None)
    if by_text is not None:
        return by_text
    if what.startswith("#") and _is_number(what[1:]):
        return next((s for s in subs if s.id == int(what[1:])), None)
    if _is_number(what):
        position = int(what)
        return subs[position - 1] if 1 <= position <= len(subs) else None
    return None


def _is_number(text: str) -> bool:
    # isdigit() also accepts "²", which int() refuses
    return text.isascii() and text.isdecimal() and len(text) <= 9


def _shorten(text: str, limit: int = 60) -> str:
    """User input echoed in a reply: enough to recognise it, never a wall of text."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
