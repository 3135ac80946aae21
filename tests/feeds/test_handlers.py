"""The feed chat commands through the real application: real SQLite, real HTTP, recording messenger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import App, running_app
from bot.core.clock import FakeClock
from bot.core.feeds import parse_opml
from bot.core.messaging import Attachment, IncomingCommand, Reply, html_to_text
from config.settings import FeedSettings, Settings
from tests.conftest import SEEDS
from tests.fakes import RecordingMessenger, command
from tests.feeds.conftest import START
from tests.feeds.feedserver import FeedServer, Route
from tests.feeds.samples import Item, rss

OLD_STORY = Item(
    "old-1",
    "Putin besucht Werft in Sankt Petersburg",
    "Kremlchef Wladimir Putin hat eine Werft in Sankt Petersburg besucht. Dort werden Eisbrecher für die "
    "Nordostpassage gebaut; der Präsident sprach mit Arbeitern und lobte das Tempo der Fertigung.",
    START - timedelta(days=3),
)
PUTIN_STORY = Item(
    "new-1",
    "Putin trifft Kim in Wladiwostok",
    "Kremlchef Wladimir Putin ist zu einem Staatsbesuch in Nordkorea eingetroffen. Machthaber Kim Jong-un "
    "empfing ihn am Flughafen der Hauptstadt. Beide Seiten wollen einen Vertrag über eine strategische "
    "Partnerschaft unterzeichnen, wie die staatliche Nachrichtenagentur berichtete.",
    START + timedelta(minutes=5),
)


def admin(text: str, **kw: object) -> IncomingCommand:
    return command(text, is_bot_admin=True, **kw)


def text(reply: Reply) -> str:
    return "\n".join(html_to_text(m.html) for m in reply.messages)


@pytest.fixture
async def feed_app(tmp_path: Path, messenger: RecordingMessenger) -> AsyncIterator[tuple[App, FakeClock]]:
    settings = Settings(  # type: ignore[call-arg]
        db_path=tmp_path / "news.db",
        seeds_dir=SEEDS,
        feeds=FeedSettings(allow_private_hosts=True, timeout_seconds=5),
        _env_file=None,
    )
    clock = FakeClock(START)
    async with running_app(settings, clock=clock, run_jobs=False) as app:
        app.services.delivery.register(messenger)
        yield app, clock


async def test_addfeed_then_a_new_item_alerts_the_subscriber(
    feed_app: tuple[App, FakeClock], server: FeedServer, messenger: RecordingMessenger
) -> None:
    app, clock = feed_app
    await app.handle(command("/subscribe Putin"))
    server.routes["/feed.xml"] = Route(rss([OLD_STORY], title="Ostsee-Ticker"))
    added = text(await app.handle(admin(f"/addfeed {server.url('/feed.xml')}")))
    assert "Added feed 1: Ostsee-Ticker" in added and "1 item archived" in added

    server.routes["/feed.xml"] = Route(rss([PUTIN_STORY, OLD_STORY], title="Ostsee-Ticker"))
    clock.advance(timedelta(minutes=10))
    await app.services.feeds.poll_due()  # type: ignore[union-attr]
    texts = await messenger.wait_for(lambda t: any("Putin trifft Kim in Wladiwostok" in m for m in t))
    alert = next(m for m in texts if "Putin trifft Kim in Wladiwostok" in m)
    assert "• " in alert
    assert not any("Werft" in m for m in texts)  # the backlog of the first poll was archived quietly

    listing = text(await app.handle(admin("/feeds")))
    assert "1. Ostsee-Ticker — " + server.url("/feed.xml") in listing and "2 items" in listing


async def test_feed_commands_explain_refusals(feed_app: tuple[App, FakeClock], server: FeedServer) -> None:
    app, _ = feed_app
    assert "Only bot admins" in text(await app.handle(command("/addfeed http://example.org/rss")))
    assert "followed by the feed's address" in text(await app.handle(admin("/addfeed")))
    assert "only http and https" in text(await app.handle(admin("/addfeed ftp://example.org/rss")))
    assert "No feeds yet" in text(await app.handle(admin("/feeds")))
    assert "feed's number" in text(await app.handle(admin("/removefeed one")))
    assert "no feed number 4" in text(await app.handle(admin("/removefeed 4")))
    assert "Attach an OPML file" in text(await app.handle(admin("/importopml")))
    assert "no feeds to export" in text(await app.handle(admin("/exportopml")))

    server.routes["/broken"] = Route(b"<rss><channel><title>x</ti", status=200)
    reply = text(await app.handle(admin(f"/addfeed {server.url('/broken')}")))
    assert "but the first fetch failed: not a valid feed" in reply and "/removefeed 1" in reply
    again = text(await app.handle(admin(f"/addfeed {server.url('/broken')}")))
    assert "already polled as number 1" in again
    listing = text(await app.handle(admin("/feeds")))
    assert "last fetch: never" in listing and "last error (1×): not a valid feed" in listing
    assert "Removed feed" in text(await app.handle(admin("/removefeed 1")))


async def test_opml_import_and_export_in_chat(feed_app: tuple[App, FakeClock], server: FeedServer) -> None:
    app, _ = feed_app
    opml = (
        b'<opml version="2.0"><body><outline text="Ticker" xmlUrl="' + server.url("/a").encode() + b'"/>'
        b'<outline text="Bad" xmlUrl="mailto:x@example.org"/></body></opml>'
    )

    async def fetch() -> bytes:
        return opml

    attachment = Attachment(filename="feeds.opml", size=len(opml), mime_type="text/x-opml", fetch=fetch)
    reply = text(await app.handle(admin("/importopml", attachment=attachment)))
    assert "Imported 1 new feed; 0 already polled, 1 refused" in reply
    assert "refused mailto:x@example.org: only http and https" in reply
    exported = text(await app.handle(admin("/exportopml")))
    assert [(f.url, f.title) for f in parse_opml(exported.encode())] == [(server.url("/a"), "Ticker")]


async def test_german_replies(feed_app: tuple[App, FakeClock]) -> None:
    app, _ = feed_app
    await app.handle(command("/lang de"))
    assert "Noch keine Feeds" in text(await app.handle(admin("/feeds")))
