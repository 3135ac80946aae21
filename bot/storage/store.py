"""One object holding the database and its repositories, opened at start and closed at shutdown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.storage.articles import ArticleRepository
from bot.storage.channels import ChannelRepository
from bot.storage.chats import ChatRepository
from bot.storage.claims import OutboxClaims
from bot.storage.kv import KeyValueRepository
from bot.storage.outbox import OutboxRepository
from bot.storage.pacing import PacingRepository
from bot.storage.sql import SqlDatabase, open_database
from bot.storage.subscriptions import SubscriptionRepository
from bot.storage.summaries import SummaryRepository
from bot.storage.trends import TrendRepository

if TYPE_CHECKING:
    from config.settings import Settings


__all__ = ["Storage", "open_database"]  # open_database lives in sql.py: commands that need one table skip this


@dataclass(frozen=True, slots=True)
class Storage:
    db: SqlDatabase
    articles: ArticleRepository
    chats: ChatRepository
    subscriptions: SubscriptionRepository
    outbox: OutboxRepository
    kv: KeyValueRepository
    summaries: SummaryRepository
    claims: OutboxClaims
    pacing: PacingRepository
    trends: TrendRepository
    channels: ChannelRepository

    @classmethod
    async def open(cls, path: Path | str, *, url: str | None = None, migrate: bool = True) -> Storage:
        return cls.over(await open_database(path, url, migrate=migrate))

    @classmethod
    async def connect(cls, settings: Settings) -> Storage:
        """The database the settings select: ``database_url`` (PostgreSQL) or the SQLite ``db_path``."""
        url = settings.database_url.get_secret_value() if settings.database_url else None
        return await cls.open(settings.db_path, url=url)

    @classmethod
    def over(cls, db: SqlDatabase) -> Storage:
        return cls(
            db=db,
            articles=ArticleRepository(db),
            chats=ChatRepository(db),
            subscriptions=SubscriptionRepository(db),
            outbox=OutboxRepository(db),
            kv=KeyValueRepository(db),
            summaries=SummaryRepository(db),
            claims=OutboxClaims(db),
            pacing=PacingRepository(db),
            trends=TrendRepository(db),
            channels=ChannelRepository(db),
        )

    async def close(self) -> None:
        await self.db.close()
