"""Polling against a real HTTP server and a real SQLite archive."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.clock import FakeClock
from bot.core.feeds import FeedExists
from bot.core.models import Feed
from bot.services.feeds import FeedService
from bot.storage.store import Storage
from tests.feeds.conftest import START, Recorder
from tests.feeds.feedserver import FeedServer, Route
from tests.feeds.samples import Item, atom, json_feed, rss, story

RECENT = START - timedelta(hours=1)
OLD = START - timedelta(days=3)


def items(*specs: tuple[str, int, object]) -> list[Item]:
    return [Item(guid, f"Streik im Hafen, Teil {n}", story(n), when) for guid, n, when in specs]  # type: ignore[arg-type]


async def feed_by_url(service: FeedService, url: str) -> Feed:
    return next(f for f in await service.list() if f.url == url)


async def test_first_poll_archives_everything_and_alerts_only_recent_items(
    server: FeedServer, service: FeedService, storage: Storage, recorder: Recorder
) -> None:
    server.routes["/feed.xml"] = Route(
        rss(items(("a", 1, OLD), ("b", 2, OLD), ("c", 3, RECENT))), etag='"v1"'
    )
    feed = await service.add(server.url("/feed.xml"), added_by="test")
    assert feed.last_error is None and feed.first_poll_done
    assert feed.title == "Test RSS" and feed.items_seen == 3 and feed.etag == '"v1"'
    assert await storage.articles.count() == 3
    assert len(recorder.alerted) == 1
    alerted = await storage.articles.get(recorder.alerted[0])
    assert alerted is not None and alerted.title == "Streik im Hafen, Teil 3" and alerted.guid == "c"


async def test_unchanged_feed_is_a_304_and_does_nothing(
    server: FeedServer, service: FeedService, storage: Storage, recorder: Recorder, clock: FakeClock
) -> None:
    server.routes["/feed.xml"] = Route(rss(items(("a", 1, RECENT))), etag='"v1"')
    feed = await service.add(server.url("/feed.xml"), added_by="test")
    clock.advance(feed.poll_seconds)
    result = await service.poll(feed)
    assert result.status == "not_modified"
    assert server.last_headers("/feed.xml")["If-None-Match"] == '"v1"'
    assert await storage.articles.count() == 1 and len(recorder.alerted) == 1
    after = await feed_by_url(service, feed.url)
    assert after.next_poll_at == clock.now() + timedelta(seconds=600)


async def test_new_item_alerts_once_even_when_the_server_ignores_validators(
    server: FeedServer, service: FeedService, storage: Storage, recorder: Recorder, clock: FakeClock
) -> None:
    url = server.url("/feed.xml")
    server.routes["/feed.xml"] = Route(rss(items(("a", 1, OLD))))  # no ETag: every poll is a full 200
    await service.add(url, added_by="test")
    assert recorder.alerted == []  # the only item is older than the backfill window
    clock.advance(700)
    server.routes["/feed.xml"] = Route(rss(items(("b", 2, clock.now()), ("a", 1, OLD))))
    result = await service.poll(await feed_by_url(service, url))
    assert (result.status, result.new, result.alerted) == ("ok", 1, 1)
    assert len(recorder.alerted) == 1
    for _ in range(2):
        clock.advance(700)
        again = await service.poll(await feed_by_url(service, url))
        assert (again.status, again.new, again.alerted) == ("ok", 0, 0)
    assert len(recorder.alerted) == 1 and await storage.articles.count() == 2


async def test_trivially_edited_item_is_a_new_version_without_a_new_alert(
    server: FeedServer, service: FeedService, storage: Storage, recorder: Recorder, clock: FakeClock
) -> None:
    url = server.url("/feed.xml")
    original = Item("a", "Streik im Hafen", story(1), RECENT)
    server.routes["/feed.xml"] = Route(rss([original]))
    await service.add(url, added_by="test")
    assert len(recorder.alerted) == 1
    typo_fix = Item("a", "Streik im Hafen", story(1).replace("Morgen", "frühen Morgen"), RECENT)
    server.routes["/feed.xml"] = Route(rss([typo_fix]))
    clock.advance(700)
    result = await service.poll(await feed_by_url(service, url))
    assert (result.updated, result.new, result.alerted) == (1, 1, 0)
    assert await storage.articles.count() == 2 and len(recorder.alerted) == 1
    rewrite = Item("a", "Streik im Hafen beendet", story(1), RECENT)
    server.routes["/feed.xml"] = Route(rss([rewrite]))
    clock.advance(700)
    result = await service.poll(await feed_by_url(service, url))
    assert (result.updated, result.alerted) == (1, 1)
    assert len(recorder.alerted) == 2
    newest = await storage.articles.get(recorder.alerted[-1])
    assert newest is not None and newest.title == "Streik im Hafen beendet"


async def test_atom_and_json_feed(
    server: FeedServer, service: FeedService, storage: Storage, recorder: Recorder
) -> None:
    server.routes["/atom"] = Route(atom(items(("urn:1", 1, RECENT))), content_type="application/atom+xml")
    server.routes["/json"] = Route(json_feed(items(("j1", 2, RECENT))), content_type="application/feed+json")
    atom_feed = await service.add(server.url("/atom"), added_by="test")
    json_feed_row = await service.add(server.url("/json"), added_by="test")
    assert (atom_feed.title, atom_feed.items_seen, atom_feed.last_error) == ("Test Atom", 1, None)
    assert (json_feed_row.title, json_feed_row.items_seen, json_feed_row.last_error) == ("Test JSON", 1, None)
    assert await storage.articles.count() == 2 and len(recorder.alerted) == 2


async def test_ttl_and_cache_control_lengthen_the_interval(
    server: FeedServer, service: FeedService, clock: FakeClock
) -> None:
    server.routes["/ttl"] = Route(rss(items(("a", 1, RECENT)), ttl=60))
    server.routes["/cc"] = Route(
        rss(items(("b", 2, RECENT))), headers={"Cache-Control": "public, max-age=1800"}
    )
    ttl_feed = await service.add(server.url("/ttl"), added_by="test")
    cc_feed = await service.add(server.url("/cc"), added_by="test")
    assert ttl_feed.poll_seconds == 3600 and ttl_feed.next_poll_at == clock.now() + timedelta(hours=1)
    assert cc_feed.poll_seconds == 1800


async def test_poll_due_polls_only_due_feeds_and_reports_next_due(
    server: FeedServer, service: FeedService, clock: FakeClock
) -> None:
    server.routes["/one"] = Route(rss(items(("a", 1, RECENT))), etag='"1"')
    server.routes["/two"] = Route(
        rss(items(("b", 2, RECENT))), etag='"2"', headers={"Cache-Control": "max-age=1200"}
    )
    await service.add(server.url("/one"), added_by="test")
    await service.add(server.url("/two"), added_by="test")
    assert service.next_due_at() == clock.now() + timedelta(seconds=600)
    await service.poll_due()
    assert (server.hits("/one"), server.hits("/two")) == (1, 1)  # nothing due yet
    clock.advance(600)
    await service.poll_due()
    assert (server.hits("/one"), server.hits("/two")) == (2, 1)
    assert service.next_due_at() == START + timedelta(seconds=1200)


async def test_remove_by_position(server: FeedServer, service: FeedService) -> None:
    for path in ("/one", "/two"):
        server.routes[path] = Route(rss(items((path, 1, RECENT))))
        await service.add(server.url(path), added_by="test")
    assert await service.remove(3) is None and await service.remove(0) is None
    removed = await service.remove(1)
    assert removed is not None and removed.url.endswith("/one")
    assert [f.url for f in await service.list()] == [server.url("/two")]


async def test_polls_of_one_host_are_limited_and_all_complete(
    server: FeedServer, service: FeedService, clock: FakeClock
) -> None:
    for n in range(6):
        server.routes[f"/f{n}"] = Route(rss(items((f"g{n}", n, RECENT))), etag=f'"{n}"', pause=0.05)
        await service.add(server.url(f"/f{n}"), added_by="test")
    server.max_in_flight = 0
    clock.advance(600)
    await service.poll_due()
    assert all(server.hits(f"/f{n}") == 2 for n in range(6))
    assert server.max_in_flight == 2  # in parallel, but never more than two at once


async def test_items_gone_from_the_feed_are_forgotten_without_realerting(
    server: FeedServer, service: FeedService, clock: FakeClock, recorder: Recorder
) -> None:
    url = server.url("/feed.xml")
    server.routes["/feed.xml"] = Route(rss(items(("a", 1, RECENT), ("b", 2, RECENT))))
    await service.add(url, added_by="test")
    assert len(recorder.alerted) == 2
    server.routes["/feed.xml"] = Route(rss(items(("b", 2, RECENT))))
    clock.advance(timedelta(days=31))
    await service.poll_due()
    assert (await feed_by_url(service, url)).items_seen == 1  # "a" unlisted for a month: forgotten
    server.routes["/feed.xml"] = Route(rss(items(("a", 1, RECENT), ("b", 2, RECENT))))
    clock.advance(timedelta(hours=1))
    await service.poll_due()
    feed = await feed_by_url(service, url)
    assert feed.items_seen == 2 and feed.last_error is None
    assert len(recorder.alerted) == 2  # "a" came back unchanged: the archive knows it, no second alert


async def test_same_feed_spelled_differently_is_not_added_twice(
    server: FeedServer, service: FeedService
) -> None:
    server.routes["/feed.xml"] = Route(rss(items(("a", 1, RECENT))))
    feed = await service.add(server.url("/feed.xml"), added_by="test")
    with pytest.raises(FeedExists) as caught:
        await service.add(
            "  HTTP://" + server.url("/feed.xml").removeprefix("http://") + "#latest", added_by="x"
        )
    assert caught.value.feed.id == feed.id and len(await service.list()) == 1
