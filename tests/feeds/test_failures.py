"""Broken feeds, hostile servers and refused addresses end as a recorded error, never a crash."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.core.clock import FakeClock
from bot.core.feeds import FeedError, address_refusal
from bot.core.feeds.urls import IPAddress
from bot.core.models import Feed
from bot.services.feeds import MAX_REDIRECTS, FeedService
from bot.storage.store import Storage
from config.settings import FeedSettings
from tests.feeds.conftest import START, Recorder
from tests.feeds.feedserver import FeedServer, Route
from tests.feeds.samples import Item, rss, story

Factory = Callable[..., Awaitable[FeedService]]
RECENT = START - timedelta(hours=1)


def good_feed() -> bytes:
    return rss([Item("a", "Streik im Hafen", story(1), RECENT)])


async def only_feed(service: FeedService) -> Feed:
    (feed,) = await service.list()
    return feed


async def test_errors_back_off_then_disable_and_tell_admins(
    server: FeedServer, service: FeedService, clock: FakeClock, recorder: Recorder
) -> None:
    server.routes["/feed.xml"] = Route(b"oops", status=500)
    feed = await service.add(server.url("/feed.xml"), added_by="test")
    assert feed.enabled and feed.failures == 1 and feed.last_error == "HTTP 500 Internal Server Error"
    delays = [feed.next_poll_at - clock.now()]
    clock.set(feed.next_poll_at)
    await service.poll_due()
    feed = await only_feed(service)
    assert feed.enabled and feed.failures == 2
    delays.append(feed.next_poll_at - clock.now())
    # Jitter keeps each delay within [½, 1] of the doubled step, so the second is never shorter than the first.
    assert timedelta(seconds=300) <= delays[0] <= timedelta(seconds=600)
    assert timedelta(seconds=600) <= delays[1] <= timedelta(seconds=1200)
    clock.advance(timedelta(days=1))
    await service.poll_due()
    feed = await only_feed(service)
    assert not feed.enabled and feed.failures == 3
    assert len(recorder.admin_messages) == 1 and "HTTP 500" in recorder.admin_messages[0]
    assert recorder.admin_messages[0].startswith("Feed disabled after 3 failed attempts: ")
    hits = server.hits("/feed.xml")
    clock.advance(timedelta(days=1))
    await service.poll_due()
    assert server.hits("/feed.xml") == hits  # disabled feeds are left alone
    assert service.next_due_at() is None


async def test_success_resets_the_failure_count_and_readding_reenables(
    server: FeedServer, service: FeedService, clock: FakeClock
) -> None:
    server.routes["/feed.xml"] = Route(b"", status=503, headers={"Retry-After": "7200"})
    feed = await service.add(server.url("/feed.xml"), added_by="test")
    assert feed.next_poll_at - clock.now() >= timedelta(hours=2)  # Retry-After is honoured
    for _ in range(2):
        clock.set((await only_feed(service)).next_poll_at)
        await service.poll_due()
    assert not (await only_feed(service)).enabled
    server.routes["/feed.xml"] = Route(good_feed())
    feed = await service.add(server.url("/feed.xml"), added_by="test")
    assert feed.enabled and feed.failures == 0 and feed.last_error is None and feed.items_seen == 1


async def test_gone_feed_is_disabled_at_once(
    server: FeedServer, service: FeedService, recorder: Recorder
) -> None:
    server.routes["/gone"] = Route(b"", status=410)
    feed = await service.add(server.url("/gone"), added_by="test")
    assert not feed.enabled and "410" in (feed.last_error or "")
    assert len(recorder.admin_messages) == 1
    assert recorder.admin_messages[0].startswith("Feed disabled after 1 failed attempt: ")  # a real plural


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<?xml version='1.0'?><rss><channel><title>x</tit", "not a valid feed"),
        (b"<html><body><p>Just a web page</p></body></html>", "not a valid feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "invalid JSON"),
        (b"", "empty feed"),
    ],
)
async def test_malformed_documents_are_recorded(
    server: FeedServer, service: FeedService, storage: Storage, body: bytes, expected: str
) -> None:
    server.routes["/bad"] = Route(body)
    feed = await service.add(server.url("/bad"), added_by="test")
    assert feed.enabled and feed.failures == 1 and expected in (feed.last_error or "")
    assert await storage.articles.count() == 0


async def test_wrong_declared_encoding_still_reads(
    server: FeedServer, service: FeedService, storage: Storage
) -> None:
    latin1 = good_feed().decode().encode("latin-1")  # the XML declaration and the header say UTF-8
    server.routes["/latin1"] = Route(latin1)
    feed = await service.add(server.url("/latin1"), added_by="test")
    assert feed.last_error is None and feed.items_seen == 1
    (article,) = await storage.articles.latest(1)
    assert "Beschäftigte" in article.body


async def test_size_cap_plain_and_gzip_bomb(server: FeedServer, service: FeedService) -> None:
    padding = "<!-- " + "x" * 200_000 + " -->"
    big = good_feed().replace(b"<channel>", f"<channel>{padding}".encode())
    server.routes["/big"] = Route(big)
    server.routes["/bomb"] = Route(big, gzip=True)
    plain = await service.add(server.url("/big"), added_by="test")
    bomb = await service.add(server.url("/bomb"), added_by="test")
    assert "larger than 100000 bytes" in (plain.last_error or "")
    assert "larger than 100000 bytes" in (bomb.last_error or "")


async def test_gzip_feed_is_read(server: FeedServer, service: FeedService) -> None:
    server.routes["/gz"] = Route(good_feed(), gzip=True)
    feed = await service.add(server.url("/gz"), added_by="test")
    assert feed.last_error is None and feed.items_seen == 1
    assert "gzip" in server.last_headers("/gz").get("Accept-Encoding", "")


async def test_stalling_server_times_out(
    server: FeedServer, make_service: Factory, feed_settings: FeedSettings
) -> None:
    service = await make_service(feed_settings.model_copy(update={"timeout_seconds": 0.3}))
    server.routes["/slow"] = Route(stall=True)
    feed = await service.add(server.url("/slow"), added_by="test")
    assert "no complete answer within 0.3 seconds" in (feed.last_error or "")


async def test_redirects_are_followed_and_bounded(server: FeedServer, service: FeedService) -> None:
    server.routes["/old"] = Route(status=301, headers={"Location": "/middle"})
    server.routes["/middle"] = Route(status=302, headers={"Location": server.url("/feed.xml")})
    server.routes["/feed.xml"] = Route(good_feed())
    moved = await service.add(server.url("/old"), added_by="test")
    assert moved.last_error is None and moved.items_seen == 1
    server.routes["/loop"] = Route(status=302, headers={"Location": "/loop"})
    looping = await service.add(server.url("/loop"), added_by="test")
    assert looping.last_error == f"more than {MAX_REDIRECTS} redirects"
    assert server.hits("/loop") == MAX_REDIRECTS + 1
    server.routes["/ftp"] = Route(status=302, headers={"Location": "ftp://127.0.0.1/feed"})
    ftp = await service.add(server.url("/ftp"), added_by="test")
    assert "only http and https" in (ftp.last_error or "")


def only_this_loopback(address: IPAddress) -> str | None:
    """127.0.0.1 stands in for a public server; every other address gets the production rules."""
    return None if str(address) == "127.0.0.1" else address_refusal(address, allow_private=False)


async def test_redirect_to_a_private_address_is_refused(
    server: FeedServer, make_service: Factory, feed_settings: FeedSettings
) -> None:
    service = await make_service(feed_settings, only_this_loopback)
    for path, target in (("/to-lo", "127.0.0.2"), ("/to-lan", "10.1.2.3"), ("/to-meta", "169.254.169.254")):
        server.routes[path] = Route(status=302, headers={"Location": f"http://{target}:{server.port}/x"})
        feed = await service.add(server.url(path), added_by="test")
        assert feed.last_error is not None and f"refused: {target} is a" in feed.last_error
    assert server.hits("/x") == 0


async def test_private_hosts_refused_when_not_allowed(
    server: FeedServer, make_service: Factory, feed_settings: FeedSettings, storage: Storage
) -> None:
    service = await make_service(feed_settings.model_copy(update={"allow_private_hosts": False}))
    server.routes["/feed.xml"] = Route(good_feed())
    for host in ("127.0.0.1", "localhost", "[::ffff:127.0.0.1]"):
        with pytest.raises(FeedError, match="refused"):
            await service.add(server.url("/feed.xml", host=host), added_by="test")
    assert await service.list() == [] and server.hits("/feed.xml") == 0


async def test_resolver_checks_names_at_connection_time(
    server: FeedServer, make_service: Factory, feed_settings: FeedSettings
) -> None:
    """A feed added while allowed, whose host now resolves to a refused address, is refused on connect."""
    service = await make_service(feed_settings, lambda address: f"{address} is blocked for this test")
    server.routes["/feed.xml"] = Route(good_feed())
    polled = await make_service(feed_settings)
    feed = await polled.add(server.url("/feed.xml", host="localhost"), added_by="test")
    assert feed.last_error is None
    result = await service.poll(feed)
    assert result.status == "failed" and "is blocked for this test" in (result.error or "")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "no URL"),
        ("ftp://example.org/feed", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("example.org/feed", "only http and https"),
        ("http://user:pw@example.org/feed", "user name or password"),
        ("http://example.org:99999/feed", "not a valid URL"),
        ("http:///feed", "no host"),
        ("http://no-such-host.invalid/feed", "cannot resolve"),
    ],
)
async def test_bad_urls_are_refused_before_storing(service: FeedService, url: str, reason: str) -> None:
    with pytest.raises(FeedError, match=reason):
        await service.add(url, added_by="test")
    assert await service.list() == []


async def test_unexpected_error_is_recorded_not_raised(
    server: FeedServer, service: FeedService, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.routes["/feed.xml"] = Route(good_feed())

    async def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service, "_store", broken)
    feed = await service.add(server.url("/feed.xml"), added_by="test")
    assert feed.failures == 1 and feed.last_error == "internal error (RuntimeError)"
