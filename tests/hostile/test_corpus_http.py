"""Every document of feedparser's test corpus through the feed poller over local HTTP, served with the
content type (and other headers) each file names: every feed ends polled, either with its items
recorded or with one recorded error saying why — the same verdict the parser gives the bytes.

One server, one database, one OPML import of all documents, one scheduler pass.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.clock import FakeClock
from bot.core.feeds import OpmlFeed, export_opml, item_key
from bot.core.models import Feed
from bot.services.feeds import FeedService
from bot.services.ingest import IngestService
from bot.storage.store import Storage
from config.settings import FeedSettings
from tests.hostile.corpus import CORPUS, Document, documents, expectation
from tests.hostile.expected import reader_text, verdict
from tests.hostile.server import HostileServer
from tests.hostile.world import MB, START

CRASH_MARKERS = ("could not parse feed:", "internal error")


@pytest.fixture
async def polled(
    tmp_path: Path, hostile_server: HostileServer
) -> AsyncIterator[tuple[FeedService, dict[str, Document]]]:
    if not CORPUS.is_dir():
        pytest.skip(f"feedparser corpus {CORPUS} not available")
    served = hostile_server.serve_corpus(documents())
    storage = await Storage.open(tmp_path / "polled.db")
    clock = FakeClock(START)
    settings = FeedSettings(allow_private_hosts=True, timeout_seconds=10, max_bytes=5 * MB)
    service = FeedService(storage, settings, IngestService(storage, clock), clock, _no_admins)
    await service.start()
    try:
        opml = export_opml([OpmlFeed(url) for url in served], created=START)
        result = await service.import_opml(opml)
        assert len(result.added) == len(served) and not result.rejected
        await service.poll_due()
        yield service, served
    finally:
        await service.close()
        await storage.close()


async def _no_admins(_: str) -> None:
    return None


async def test_every_feed_ends_with_items_or_one_reason(polled: tuple[FeedService, dict[str, Document]]) -> None:
    service, served = polled
    feeds = await service.list()
    assert len(feeds) == len(served)
    accepted = refused = 0
    for feed in feeds:
        document: Document = served[feed.url]
        parsed = verdict(document)
        if parsed.error:
            # One clear reason, the parser's own, recorded once; nothing of the feed stored.
            assert feed.last_error == parsed.error and feed.failures == 1, document.name
            assert feed.items_seen == 0 and not feed.last_error.startswith(CRASH_MARKERS)
            refused += 1
            continue
        assert feed.last_error is None and feed.last_fetch_at is not None, (document.name, feed.last_error)
        # Every usable item was recorded (none half-stored): one row per distinct item key.
        keys = {item_key(i.draft.guid, i.draft.url, i.draft.title) for i in parsed.drafts() if i.draft}
        assert feed.items_seen == len(keys - {None}), document.name
        accepted += 1
    assert accepted > 2000 and refused >= 15  # an empty feed is a fine answer over HTTP
    _feed_titles_read_as_the_corpus_expects(feeds, served)


def _feed_titles_read_as_the_corpus_expects(feeds: list[Feed], served: dict[str, Document]) -> None:
    """Feed titles after HTTP (charset from the header, entities, markup) against ``Expect:``."""
    checked = 0
    for feed in feeds:
        document = served[feed.url]
        wanted = expectation(document)
        if wanted is None or wanted.entry is not None or wanted.key != "title" or feed.last_error:
            continue
        assert (feed.title or "") == reader_text(document, wanted)[:200], document.name
        checked += 1
    assert checked > 250
