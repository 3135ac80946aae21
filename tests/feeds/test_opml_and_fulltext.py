"""OPML import/export through the service, and full-text fetching of teaser-only items."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.core.clock import FakeClock
from bot.core.feeds import FeedError, parse_opml
from bot.services.feeds import FeedService
from bot.storage.store import Storage
from config.settings import FeedSettings
from tests.feeds.conftest import START
from tests.feeds.feedserver import FeedServer, Route
from tests.feeds.samples import Item, rss, story

Factory = Callable[..., Awaitable[FeedService]]

OPML = b"""<?xml version="1.0" encoding="utf-8"?>
<opml version="1.0">
  <head><title>Subscriptions</title></head>
  <body>
    <outline text="News">
      <outline type="rss" text="Hafen-Ticker" xmlUrl="%(one)s"/>
      <outline type="rss" text="Zweiter" title="Zweiter Feed" xmlUrl="%(two)s"/>
    </outline>
    <outline type="rss" text="again" xmlUrl="%(one)s"/>
    <outline type="rss" text="old protocol" xmlUrl="gopher://example.org/feed"/>
    <outline text="folder without feeds"/>
  </body>
</opml>
"""


async def test_opml_round_trip(
    server: FeedServer, service: FeedService, clock: FakeClock, storage: Storage
) -> None:
    for path in ("/one", "/two"):
        server.routes[path] = Route(rss([Item(path, "Streik", story(len(path)), START)]))
    data = OPML % {b"one": server.url("/one").encode(), b"two": server.url("/two").encode()}
    result = await service.import_opml(data)
    assert [f.url for f in result.added] == [server.url("/one"), server.url("/two")]
    assert [f.title for f in result.added] == ["Hafen-Ticker", "Zweiter Feed"]
    assert [url for url, _ in result.rejected] == ["gopher://example.org/feed"]
    again = await service.import_opml(data)
    assert again.added == [] and again.existing == [server.url("/one"), server.url("/two")]

    exported = await service.export_opml()
    assert [(f.url, f.title) for f in parse_opml(exported)] == [
        (server.url("/one"), "Hafen-Ticker"),
        (server.url("/two"), "Zweiter Feed"),
    ]
    await service.poll_due()  # imported feeds are due at once
    assert all(f.first_poll_done and f.last_error is None for f in await service.list())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<opml><body><outline", "not well-formed"),
        (b"<rss version='2.0'/>", "not an OPML file"),
        (b"<opml version='2.0'><head/></opml>", "no <body>"),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body/></opml>', "entity declarations"),
    ],
)
async def test_bad_opml_is_explained(service: FeedService, data: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason):
        await service.import_opml(data)


PAGE = """<html><head><title>Streik</title></head><body><nav>Home | Politik | Sport</nav>
<article><h1>Streik im Hafen von Rostock</h1>
<p>Im Hafen von Rostock haben am Montagmorgen mehrere hundert Beschäftigte die Arbeit niedergelegt.
Die Gewerkschaft fordert acht Prozent mehr Lohn und eine kürzere Wochenarbeitszeit für alle Schichten.</p>
<p>Die Reederei kündigte an, in der kommenden Woche mit der Gewerkschaft zu verhandeln. Bis dahin sollen
die Containerbrücken stillstehen, sagte ein Sprecher der Beschäftigten vor dem Werkstor am Überseehafen.</p>
<p>Die Landesregierung rief beide Seiten zu einer schnellen Einigung auf, um Lieferketten nicht zu gefährden.</p>
</article><footer>Impressum</footer></body></html>"""


async def test_full_text_of_teaser_items_when_enabled(
    server: FeedServer, make_service: Factory, feed_settings: FeedSettings, storage: Storage
) -> None:
    server.routes["/page.html"] = Route(PAGE.encode(), content_type="text/html; charset=utf-8")
    teaser = Item(
        "t1",
        "Streik im Hafen von Rostock",
        "Hunderte legen im Überseehafen die Arbeit nieder.",
        START - timedelta(hours=1),
        link=server.url("/page.html"),
    )
    server.routes["/feed.xml"] = Route(rss([teaser]))
    service = await make_service(feed_settings.model_copy(update={"fetch_full_text": True}))
    feed = await service.add(server.url("/feed.xml"), added_by="test")
    assert feed.last_error is None
    (article,) = await storage.articles.latest(1)
    assert "Containerbrücken" in article.body and not article.teaser_only
    assert "Impressum" not in article.body


async def test_full_text_is_off_by_default(
    server: FeedServer, service: FeedService, storage: Storage
) -> None:
    server.routes["/page.html"] = Route(PAGE.encode(), content_type="text/html; charset=utf-8")
    teaser = Item(
        "t1",
        "Streik im Hafen von Rostock",
        "Hunderte legen im Überseehafen die Arbeit nieder.",
        START,
        link=server.url("/page.html"),
    )
    server.routes["/feed.xml"] = Route(rss([teaser]))
    await service.add(server.url("/feed.xml"), added_by="test")
    (article,) = await storage.articles.latest(1)
    assert article.teaser_only and server.hits("/page.html") == 0


async def test_fetch_items_one_off(server: FeedServer, service: FeedService, storage: Storage) -> None:
    server.routes["/feed.xml"] = Route(rss([Item("a", "Streik", story(1), START)]))
    items = await service.fetch_items(server.url("/feed.xml"))
    assert [i.draft.title for i in items if i.draft] == ["Streik"]
    assert await storage.articles.count() == 0 and await service.list() == []
    server.routes["/bad"] = Route(b"<html>no feed</html>")
    with pytest.raises(FeedError, match="not a valid feed"):
        await service.fetch_items(server.url("/bad"))
    with pytest.raises(FeedError, match="HTTP 404"):
        await service.fetch_items(server.url("/missing"))
