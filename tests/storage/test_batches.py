"""Statement sizes of the bulk writes: few distinct sizes, and a padded last statement that changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.core.models import ArticleDraft, ChatKey
from bot.core.trends.series import ArticleMentions
from bot.storage.batches import CHUNK_ROWS, padded_chunks, padded_size
from bot.storage.outbox import NewOutboxRow
from bot.storage.store import Storage

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_padded_sizes_are_the_ten_statement_sizes() -> None:
    sizes = {padded_size(count) for count in range(1, CHUNK_ROWS + 1)}
    assert sizes == {1, 2, 4, 8, 16, 32, 64, 128, 256, CHUNK_ROWS}
    assert padded_size(129) == 256 and padded_size(257) == CHUNK_ROWS and padded_size(1) == 1


def test_padded_chunks_keep_every_row_in_order_and_repeat_only_the_last() -> None:
    for count in (1, 3, 499, 500, 501, 969, 1000, 1234):
        rows = list(range(count))
        statements = list(padded_chunks(rows))
        assert len(statements) == -(-count // CHUNK_ROWS)  # one statement per started chunk
        assert all(len(part) == padded_size(min(len(part), CHUNK_ROWS)) for part in statements)
        seen = [row for part in statements for row in dict.fromkeys(part)]
        assert seen == rows
        last = statements[-1]
        assert set(last[last.index(count - 1) :]) == {count - 1}
    assert list(padded_chunks([])) == []


async def test_padded_statements_store_each_row_once(storage: Storage) -> None:
    # 3 articles, 3 mentions and 3 alerts are each written as a 4-row statement (the last row twice).
    drafts = [(f"h{n}", ArticleDraft(title=f"T{n}", body=f"Body {n} about Kim.", lang="de")) for n in range(3)]
    ids = await storage.articles.insert_many(drafts, NOW, to_match=True)
    assert None not in ids and len(set(ids)) == 3 and await storage.articles.count() == 3
    chat, _ = await storage.chats.get_or_create(ChatKey("console", "a"), NOW)
    rows = [NewOutboxRow(chat.id, aid, None, "Kim", f"why {aid}") for aid in ids]  # type: ignore[arg-type]
    mentions = [ArticleMentions(aid, date(2026, 3, 1), ("entity:kim_jong_un",)) for aid in ids]  # type: ignore[arg-type]
    assert await storage.outbox.enqueue(rows, NOW, matched=ids, mentions=mentions) == 3  # type: ignore[arg-type]
    assert [item.article_id for item in await storage.outbox.waiting_for_chat(chat.id, NOW)] == ids
    assert len(await storage.trends.naming("entity:kim_jong_un", date(2026, 3, 1), date(2026, 3, 1))) == 3
    assert await storage.articles.unmatched_ids() == []
