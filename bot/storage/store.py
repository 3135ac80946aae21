"""One object holding the database and its repositories, opened at start and closed at shutdown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.storage.articles import ArticleRepository
from bot.storage.channels import ChannelRepository
from bot.storage.chats import ChatRepository
from bot.storage.db import Database
from bot.storage.kv import KeyValueRepository
from bot.storage.outbox import OutboxRepository
from bot.storage.subscriptions import SubscriptionRepository
from bot.storage.summaries import SummaryRepository


@dataclass(frozen=True, slots=True)
class Storage:
    db: Database
    articles: ArticleRepository
    chats: ChatRepository
    subscriptions: SubscriptionRepository
    outbox: OutboxRepository
    kv: KeyValueRepository
    summaries: SummaryRepository
    channels: ChannelRepository

    @classmethod
    async def open(cls, path: Path | str) -> Storage:
        db = await Database.open(path)
        return cls(
            db=db,
            articles=ArticleRepository(db),
            chats=ChatRepository(db),
            subscriptions=SubscriptionRepository(db),
            outbox=OutboxRepository(db),
            kv=KeyValueRepository(db),
            summaries=SummaryRepository(db),
            channels=ChannelRepository(db),
        )

    async def close(self) -> None:
        await self.db.close()
