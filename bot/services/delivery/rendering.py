"""Outbox rows → the text of one alert or digest for one chat, with the per-article work done once.

A fan-out sends the same alert to thousands of chats: the article lookup, its fingerprint and the composed,
split alert are cached per article (and per language and platform), so each further chat costs a lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.core.alerts.compose.fingerprints import fingerprint
from bot.core.alerts.compose.labels import Labels, labels_for
from bot.core.alerts.compose.render import compose_alert, compose_digest
from bot.core.alerts.compose.stories import AlertEntry, Story, fold_near_duplicates, group_by_query
from bot.core.alerts.split import split_message
from bot.core.lru import LRUCache
from bot.core.messaging import Button, Messenger
from bot.core.models import Article, Chat, OutboxItem
from bot.services.delivery.summary_cache import SummaryCache
from bot.storage.store import Storage

FINGERPRINT_CACHE = 4096
RENDER_CACHE = 1024  # composed alerts per (article, query, reason, language, prefix, size limit)

_RenderKey = tuple[int, str, str, str, str, int]


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message ready to claim and send: its parts, the rows it carries, and the button under it."""

    parts: tuple[str, ...]
    ids: tuple[int, ...]
    batch: str  # stored with the claim; the same batch after a crash gives the same idempotency keys
    buttons: tuple[tuple[Button, ...], ...] = ()
    left_over: int = 0  # rows a capped digest leaves pending
    resend: bool = False  # an earlier send of these rows may have arrived: the batch stays theirs until confirmed


class AlertRenderer:
    def __init__(self, storage: Storage, summaries: SummaryCache, *, digest_cap: int) -> None:
        self._storage = storage
        self._summaries = summaries
        self._digest_cap = digest_cap
        self._fingerprints: LRUCache[int, str] = LRUCache(FINGERPRINT_CACHE)
        self._rendered: LRUCache[_RenderKey, tuple[str, ...]] = LRUCache(RENDER_CACHE)

    async def alert(self, chat: Chat, messenger: Messenger, item: OutboxItem) -> Rendered | None:
        """One instant alert (None when its article is gone)."""
        # Looked up before building labels: after the first chat, a fan-out's alert costs one dict lookup.
        size = messenger.max_message_chars
        key = (item.article_id, item.query, item.reason, chat.lang, messenger.command_prefix, size)
        parts = self._rendered.get(key)
        if parts is None:
            entries = await self.entries([item])
            if not entries:
                return None
            labels = _labels(chat, messenger)
            parts = tuple(split_message(compose_alert(entries[0], labels), messenger.max_message_chars))
            self._rendered.put(key, parts)
        return Rendered(parts, (item.id,), f"o{item.id}")

    async def digest(self, chat: Chat, messenger: Messenger, items: Sequence[OutboxItem]) -> Rendered | None:
        """Everything waiting folded into one capped digest (None when nothing is left to show)."""
        labels = _labels(chat, messenger)
        stories = fold_near_duplicates(await self.entries(items))
        html, included = self._compose(stories, labels, as_digest=True)
        if not included:
            return None
        left_over = len(items) - len(included)
        # Under a capped digest, a button fetches the rest (the rows stay pending until then).
        buttons = ((Button(labels.more_button, "digest"),),) if left_over else ()
        parts = tuple(split_message(html, messenger.max_message_chars))
        return Rendered(parts, tuple(included), f"d{min(included)}-{len(included)}", buttons, left_over)

    async def resend(self, chat: Chat, messenger: Messenger, items: Sequence[OutboxItem], batch: str) -> Rendered:
        """Rows a crash left in flight, or whose send may have arrived, as the message they were claimed for
        (the same batch id)."""
        labels = _labels(chat, messenger)
        stories = fold_near_duplicates(await self.entries(items))
        html = self._compose(stories, labels, as_digest=len(stories) > 1)[0]
        parts = tuple(split_message(html, messenger.max_message_chars))
        return Rendered(parts, tuple(i.id for i in items), batch, resend=True)

    def _compose(self, stories: list[Story], labels: Labels, *, as_digest: bool) -> tuple[str, list[int]]:
        if not as_digest and len(stories) == 1:
            return compose_alert(stories[0], labels), list(stories[0].outbox_ids)
        # Newest first: when the cap cuts, the older stories wait for the next digest.
        stories = sorted(stories, key=_recency, reverse=True)
        digest = compose_digest(group_by_query(stories), self._digest_cap, labels)
        return digest.html, list(digest.included_outbox_ids)

    async def entries(self, items: Sequence[OutboxItem]) -> list[AlertEntry]:
        articles = {a.id: a for a in await self._storage.articles.get_many([i.article_id for i in items])}
        entries = []
        for item in items:
            article = articles.get(item.article_id)
            if article is None:
                continue
            bullets = await self._summaries.bullets(article, item.query)
            entries.append(
                AlertEntry.of(
                    article,
                    bullets,
                    outbox_ids=(item.id,),
                    query=item.query,
                    reason=item.reason,
                    body_fingerprint=self._fingerprint(article),
                )
            )
        return entries

    def _fingerprint(self, article: Article) -> str:
        """Per article, not per chat: a fan-out to thousands of chats computes it once."""
        return self._fingerprints.get_or_compute(article.id, lambda: fingerprint(article.title, article.body))


def kept_batches(items: Sequence[OutboxItem]) -> tuple[list[tuple[str, list[OutboxItem]]], list[OutboxItem]]:
    """Waiting rows split into the batches of earlier sends that may have arrived (each must go out again as
    itself, under its old keys) and the rest (free to fold into a new message)."""
    kept: dict[str, list[OutboxItem]] = {}
    rest: list[OutboxItem] = []
    for item in items:
        if item.batch:
            kept.setdefault(item.batch, []).append(item)
        else:
            rest.append(item)
    return list(kept.items()), rest


def _labels(chat: Chat, messenger: Messenger) -> Labels:
    # The prefix comes from the transport: "/digest" on Telegram and the console, "!digest" on Matrix.
    return labels_for(chat.lang, messenger.command_prefix)


def _recency(story: Story) -> tuple[date, int]:
    return (story.lead.published or date.min, max(story.outbox_ids))
