"""Resource attacks, by upload/file and over HTTP: each is refused with a reason within the bounds
(5 s of CPU, 100 MB of extra memory, by the process's own accounting), and nothing else is lost."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.core.feeds import FeedError
from bot.core.ingest.records import iter_jsonl
from bot.core.matching import MatchEngine
from bot.core.models import Feed, IngestReport
from tests.fakes import command
from tests.hostile.server import BLOCK, HostileServer, Page, RawServer, gzip_bomb, gzip_stream
from tests.hostile.world import MB, TIME_LIMIT, World, bounded, running_world

GB = 1024 * MB
GOOD_ITEM = (
    "<item><guid>good-1</guid><title>Hafenstreik in Hamburg geht weiter</title><description>Die Beschäftigten"
    " im Hamburger Hafen setzen ihren Streik fort; die Gewerkschaft fordert einen Inflationsausgleich und "
    "höhere Zuschläge für Nachtschichten.</description></item>"
)


def rss(inner: str | bytes, doctype: bytes = b"") -> bytes:
    body = inner.encode() if isinstance(inner, str) else inner
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n' + doctype + b'<rss version="2.0"><channel><title>t</title>'
        + body + b"</channel></rss>"
    )


def laughs() -> bytes:
    entities = b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1)) * 10 if i else b"lol") for i in range(10)
    )
    item = "<item><title>&lol9;</title><description>&lol9;</description></item>"
    return rss(item, b"<!DOCTYPE rss [" + entities + b"]>")


def quadratic() -> bytes:
    doctype = b'<!DOCTYPE rss [<!ENTITY a "' + b"A" * 100_000 + b'">]>'
    return rss(b"<item><title>q</title><description>" + b"&a;" * 100_000 + b"</description></item>", doctype)


def deep_html(depth: int = 100_000) -> str:
    return "<div>" * depth + "Streik im Hafen" + "</div>" * depth


@pytest.fixture
async def world(tmp_path: Path, match_engine: MatchEngine) -> AsyncIterator[World]:
    async with running_world(tmp_path, match_engine) as running:
        yield running


@pytest.fixture
async def raw_server() -> AsyncIterator[RawServer]:
    async with RawServer() as server:
        yield server


async def unaffected(world: World, before: object) -> None:
    """Nothing stored, queued or unsubscribed by the attack, and the bot still answers."""
    assert await world.snapshot() == before
    reply = await world.app.handle(command("/list"))
    assert "Putin" in " ".join(m.html for m in reply.messages)


def only_rejection(report: IngestReport) -> str:
    assert report.outcomes and all(o.status == "rejected" for o in report.outcomes), report.outcomes
    assert report.outcomes[0].reason
    return report.outcomes[0].reason


async def upload(world: World, name: str, data: bytes) -> str:
    before = await world.snapshot()
    with bounded() as usage:
        report = await world.app.services.ingest.ingest_document(name, data, max_bytes=5 * MB)
    usage.check()
    await unaffected(world, before)
    return only_rejection(report)


async def ingest_file(world: World, path: Path) -> IngestReport:
    before = await world.snapshot()
    with bounded() as usage:
        report = await world.app.services.ingest.ingest_path(path)
    usage.check()
    assert report.count("new") <= 1
    if report.count("new") == 0:
        await unaffected(world, before)
    return report


async def poll_attack(world: World, url: str) -> Feed:
    """``addfeed`` the URL (which polls it at once): the feed must end with a recorded error."""
    before = await world.snapshot()
    service = world.feed_service()
    await service.start()
    try:
        with bounded() as usage:
            async with asyncio.timeout(TIME_LIMIT):  # a hang guard: the refusal must come within the bound
                feed = await service.add(url, added_by="attacker")
        usage.check()
    finally:
        await service.close()
    assert feed.last_error and feed.items_seen == 0, feed
    await unaffected(world, before)
    return feed


# -- XML entity expansion ----------------------------------------------------------------------------------


async def test_billion_laughs_upload_and_feed(world: World, hostile_server: HostileServer) -> None:
    assert "entity-expansion attack" in await upload(world, "laughs.xml", laughs())
    hostile_server.pages["/laughs"] = Page(laughs())
    feed = await poll_attack(world, hostile_server.url("/laughs"))
    assert "entity-expansion attack" in (feed.last_error or "")


async def test_quadratic_blowup_upload_and_feed(world: World, hostile_server: HostileServer) -> None:
    assert "more than 1 MB" in await upload(world, "quadratic.rss", quadratic())
    hostile_server.pages["/quadratic"] = Page(quadratic())
    feed = await poll_attack(world, hostile_server.url("/quadratic"))
    assert "entity-expansion attack" in (feed.last_error or "")


# -- external entities and DTDs ----------------------------------------------------------------------------

SECRET = "geheim-7f3a9c"


def xxe_feed(secret_path: Path, server: HostileServer) -> bytes:
    """A feed whose entities point at a local file and at URLs of the test server (which counts hits)."""
    doctype = (
        f'<!DOCTYPE rss SYSTEM "{server.url("/dtd")}" ['
        f'<!ENTITY file SYSTEM "file://{secret_path}">'
        f'<!ENTITY web SYSTEM "{server.url("/entity")}">'
        f'<!ENTITY % remote SYSTEM "{server.url("/parameter")}"> %remote;]>'
    ).encode()
    item = (
        "<item><guid>x-1</guid><title>Hafenstreik &file; &web;</title><description>Die Beschäftigten im "
        "Hamburger Hafen setzen ihren Streik fort: &file; &web; Die Gewerkschaft fordert mehr Lohn und einen "
        "Inflationsausgleich für alle Schichten.</description></item>"
    )
    return rss(item, doctype)


async def test_external_entities_and_dtds_are_never_resolved(
    world: World, hostile_server: HostileServer, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    feed_bytes = xxe_feed(secret, hostile_server)
    before = await world.snapshot()
    with bounded() as usage:
        report = await world.app.services.ingest.ingest_document("xxe.xml", feed_bytes, max_bytes=MB)
    usage.check()
    hostile_server.pages["/xxe"] = Page(feed_bytes)
    service = world.feed_service()
    await service.start()
    try:
        items = await service.fetch_items(hostile_server.url("/xxe"))
    finally:
        await service.close()
    texts = [o.title or "" for o in report.outcomes] + [o.reason for o in report.outcomes]
    texts += [f"{i.draft.title} {i.draft.body}" for i in items if i.draft]
    articles = (await world.snapshot()).articles
    assert all(SECRET not in text for text in texts + [f"{a[1]} {a[2]}" for a in articles])
    assert report.count("new") + report.count("rejected") == 1 and items
    assert not {"/dtd", "/entity", "/parameter"} & set(hostile_server.hits)  # nothing was fetched
    assert before.subscriptions == (await world.snapshot()).subscriptions


async def test_opml_with_entities_is_refused_and_fetches_nothing(
    world: World, hostile_server: HostileServer, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    service = world.feed_service()
    documents = [
        f'<!DOCTYPE opml [<!ENTITY x SYSTEM "file://{secret}">]><opml><body><outline xmlUrl="&x;"/></body></opml>',
        laughs().decode().replace("<rss", "<opml").replace("</rss>", "</opml>"),
        f'<!DOCTYPE opml SYSTEM "{hostile_server.url("/dtd")}"><opml><body/></opml>',
    ]
    for document in documents[:2]:
        with pytest.raises(FeedError, match="entity declarations are not accepted"):
            await service.import_opml(document.encode())
    assert (await service.import_opml(documents[2].encode())).added == []
    assert "/dtd" not in hostile_server.hits and await service.list() == []


# -- gzip bombs --------------------------------------------------------------------------------------------


async def test_gzip_bomb_upload_and_file(world: World, tmp_path: Path) -> None:
    bomb = gzip_bomb(GB)
    assert len(bomb) < 1.1 * MB
    assert "decompressed content exceeds" in await upload(world, "bomb.xml.gz", bomb)
    path = tmp_path / "bomb.xml.gz"
    path.write_bytes(bomb)
    report = await ingest_file(world, path)
    assert "decompressed content exceeds" in only_rejection(report)


async def test_gzip_bomb_as_content_encoding(world: World, hostile_server: HostileServer) -> None:
    hostile_server.pages["/bomb"] = Page(gzip_bomb(GB), headers={"Content-Encoding": "gzip"})
    feed = await poll_attack(world, hostile_server.url("/bomb"))
    assert "response larger than" in (feed.last_error or "")


# -- huge documents ----------------------------------------------------------------------------------------


async def test_feed_of_a_million_items(world: World, tmp_path: Path, hostile_server: HostileServer) -> None:
    path = tmp_path / "million.xml"
    path.write_bytes(rss(b"<item/>" * 1_000_000))
    report = await ingest_file(world, path)
    assert "XML elements" in only_rejection(report)
    path.unlink()
    # JSON Feed packs a million items into 3 MB, under the HTTP size cap.
    items = b",".join([b"{}"] * 1_000_000)
    hostile_server.pages["/million.json"] = Page(
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "m", "items": [' + items + b"]}",
        "application/feed+json",
    )
    feed = await poll_attack(world, hostile_server.url("/million.json"))
    assert "objects/arrays" in (feed.last_error or "")
    # Over the size cap, the same as RSS is refused while it downloads.
    hostile_server.pages["/million.xml"] = Page(rss(b"<item><title>x</title></item>" * 1_000_000))
    feed = await poll_attack(world, hostile_server.url("/million.xml"))
    assert "larger than" in (feed.last_error or "")


class _LongLine(io.RawIOBase):
    """A .jsonl stream whose first line is 200 MB, generated as it is read (never held in memory)."""

    def __init__(self, size: int) -> None:
        self._parts: Iterator[bytes] = iter(
            [b'{"title": "x", "text": "', *([b"a" * BLOCK] * (size // BLOCK)), b'"}\n', _GOOD_LINE]
        )
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        while not self._pending:
            self._pending = next(self._parts, b"")
            if not self._pending:
                return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n], self._pending = self._pending[:n], self._pending[n:]
        return n


_GOOD_LINE = (
    b'{"id": "ok-2", "title": "Hafenstreik", "text": "Die Besch\\u00e4ftigten im Hamburger Hafen setzen '
    b'ihren Streik fort; die Gewerkschaft fordert einen Inflationsausgleich."}\n'
)


async def test_a_200_mb_line_in_jsonl(world: World, tmp_path: Path) -> None:
    stream = io.BufferedReader(_LongLine(200 * MB))
    with bounded() as usage:
        items = await asyncio.to_thread(lambda: list(iter_jsonl(stream, "long.jsonl")))
    usage.check()
    assert [i.status for i in items] == ["rejected", "ok"] and "line too long" in items[0].reason
    # The same line compressed (200 kB on disk) through `newsalert ingest`'s file path.
    path = tmp_path / "long.jsonl.gz"
    path.write_bytes(gzip_stream([(b'{"text": "', 1), (b"a" * BLOCK, 200), (b'"}\n' + _GOOD_LINE, 1)]))
    report = await ingest_file(world, path)
    assert [o.status for o in report.outcomes] == ["rejected", "new"]
    assert "line too long" in report.outcomes[0].reason


async def test_html_nested_100000_deep(world: World, hostile_server: HostileServer) -> None:
    assert "nested more than" in await upload(world, "deep.html", deep_html().encode())
    item = f"<item><title>tief</title><description><![CDATA[{deep_html()}]]></description></item>"
    hostile_server.pages["/deep"] = Page(rss(item))
    feed = await poll_attack(world, hostile_server.url("/deep"))
    assert "nested more than" in (feed.last_error or "")


# -- misbehaving servers -----------------------------------------------------------------------------------


async def test_server_dripping_one_byte_a_second(world: World, raw_server: RawServer) -> None:
    feed = await poll_attack(world, raw_server.url("/drip"))
    assert "no complete answer within 2 seconds" in (feed.last_error or "")
    assert raw_server.bytes_sent["/drip"] < 200  # it was cut off, not waited out


async def test_response_that_never_ends(world: World, raw_server: RawServer) -> None:
    feed = await poll_attack(world, raw_server.url("/never-ends"))
    assert "response larger than" in (feed.last_error or "")


@pytest.mark.parametrize("path", ["/huge-header", "/endless-headers"])
async def test_huge_and_endless_headers(world: World, raw_server: RawServer, path: str) -> None:
    feed = await poll_attack(world, raw_server.url(path))
    assert "HTTP request failed" in (feed.last_error or "") or "no complete answer" in (feed.last_error or "")


async def test_endless_redirects(world: World, hostile_server: HostileServer) -> None:
    feed = await poll_attack(world, hostile_server.url("/loop/0"))
    assert "more than 5 redirects" in (feed.last_error or "")
    assert hostile_server.hits["/loop"] == 6


async def test_a_good_feed_still_works_after_the_attacks(world: World, hostile_server: HostileServer) -> None:
    """The same service refuses an attack and then reads an honest feed as usual."""
    hostile_server.pages["/laughs"] = Page(laughs())
    hostile_server.pages["/good"] = Page(rss(GOOD_ITEM))
    service = world.feed_service()
    await service.start()
    try:
        bad = await service.add(hostile_server.url("/laughs"), added_by="attacker")
        good = await service.add(hostile_server.url("/good"), added_by="admin")
    finally:
        await service.close()
    assert bad.last_error and good.last_error is None and good.items_seen == 1
