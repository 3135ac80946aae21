"""Matrix under stress, against a real Synapse: the homeserver SIGKILLed and restarted in the middle of a
fan-out to several users loses no alert and repeats none (transaction-id dedupe survives the crash), and a
non-admin trying every admin command is refused with no download and no change.

The module runs its own homeserver (not the session one of ``tests/matrix``), so killing it cannot disturb
other tests.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.app import App, running_app
from bot.core.ingest import ParsedItem
from bot.core.messaging import OutgoingMessage
from bot.core.models import ArticleDraft
from config.settings import FeedSettings, MatrixSettings, Settings
from tests.matrix.conftest import homeserver_in
from tests.matrix.synapse import MatrixUser, SynapseServer
from tests.matrix.user import UserClient
from tests.reliability.support import (
    admin_arguments,
    admin_commands,
    admin_upload,
    changed_tables,
    record_fetches,
    scalar,
    snapshot,
)

pytestmark = [pytest.mark.reliability, pytest.mark.matrix]

READERS = 4
BEFORE, DURING, AFTER = 4, 3, 3  # articles stored before the kill, while the homeserver is down, after


@pytest.fixture(scope="module")
def homeserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    # Its own homeserver: killing it must not disturb the other Matrix tests.
    with homeserver_in(tmp_path_factory.mktemp("synapse-reliability"), "the Matrix reliability tests") as server:
        yield server


def register(server: SynapseServer, localpart: str) -> MatrixUser:
    return server.register(localpart, secrets.token_urlsafe(12))


@pytest.fixture(scope="module")
def bot_account(homeserver: SynapseServer) -> MatrixUser:
    return register(homeserver, "newsbot")


@pytest.fixture(scope="module")
def admin_account(homeserver: SynapseServer) -> MatrixUser:
    return register(homeserver, "editor")


def app_settings(tmp_path: Path, server: SynapseServer, bot: MatrixUser, admin: MatrixUser) -> Settings:
    return Settings(  # type: ignore[call-arg]
        db_path=tmp_path / "db.sqlite",
        seeds_dir=tmp_path / "none",
        matrix=MatrixSettings(
            homeserver=server.url,
            user_id=bot.user_id,
            password=bot.password,  # type: ignore[arg-type]
            admin_ids=[admin.user_id],
            sync_timeout_ms=1000,
        ),
        feeds=FeedSettings(allow_private_hosts=True),
        _env_file=None,
    )


@asynccontextmanager
async def user_client(server: SynapseServer, account: MatrixUser) -> AsyncIterator[UserClient]:
    client = UserClient(server.url, account)
    try:
        await client.catch_up()
        yield client
    finally:
        await client.close()


async def dm_with_bot(user: UserClient, bot_id: str) -> str:
    room_id = await user.create_room([bot_id], direct=True)
    await user.wait_for_membership(room_id, bot_id, "join")
    return room_id


def title(n: int) -> str:
    return f"Putin-Meldung Nummer {n:02d} aus Wladiwostok"


def article(n: int) -> ParsedItem:
    body = (
        f"Kremlchef Wladimir Putin hat in Wladiwostok die Meldung {n:02d} bestätigt. "
        f"Es ging nach Angaben des Kreml um Vorgang {n * 7919} und die Lieferung {n * 104729}. "
        f"Beobachter sprachen von Schritt {n} einer längeren Reihe von Treffen."
    )
    return ParsedItem(f"matrix-{n}", ArticleDraft(title=title(n), body=body, lang="de"), "ok")


async def store(app: App, numbers: range) -> None:
    for n in numbers:  # one by one, as feed items arrive, so deliveries overlap the outage
        report = await app.services.ingest.ingest_items([article(n)])
        assert report.count("new") == 1


def bot_bodies(user: UserClient, room_id: str, bot_id: str) -> list[str]:
    return [
        str((event.get("content") or {}).get("body", ""))
        for rid, event in user.events
        if rid == room_id and event.get("sender") == bot_id and event.get("type") == "m.room.message"
    ]


async def collect_until_complete(user: UserClient, room_id: str, bot_id: str, count: int) -> Counter[str]:
    """Sync until every title arrived (the outage delays some), then once more to catch late repeats;
    returns in how many distinct events each title was seen. Nothing is consumed: every message the bot
    sent counts."""
    wanted = [title(n) for n in range(count)]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120
    while True:
        text = "\n".join((await user.notice_events_from(room_id, bot_id, settle_ms=1000)).values())
        if all(t in text for t in wanted):
            break
        if loop.time() > deadline:
            missing = [t for t in wanted if t not in text]
            raise AssertionError(f"alerts never arrived in {room_id}: {missing}")
    text = "\n".join((await user.notice_events_from(room_id, bot_id, settle_ms=1500)).values())
    return Counter({t: text.count(t) for t in wanted})


async def sent_at_least(app: App, count: int, limit_s: float = 60) -> None:
    async with asyncio.timeout(limit_s):
        while True:
            if (await app.storage.outbox.status_counts()).get("sent", 0) >= count:
                return
            await asyncio.sleep(0.02)


async def test_homeserver_killed_and_restarted_mid_fan_out_loses_and_repeats_nothing(
    tmp_path: Path, homeserver: SynapseServer, bot_account: MatrixUser, admin_account: MatrixUser
) -> None:
    bot_id = bot_account.user_id
    readers = [register(homeserver, f"reader{n}-{secrets.token_hex(3)}") for n in range(READERS)]
    clients = [UserClient(homeserver.url, account) for account in readers]
    try:
        for client in clients:
            await client.catch_up()
        async with running_app(
            app_settings(tmp_path, homeserver, bot_account, admin_account), load_seeds=False
        ) as app:
            rooms = [await dm_with_bot(client, bot_id) for client in clients]
            for client, room in zip(clients, rooms, strict=True):
                await client.say(room, "!subscribe Putin")
                await client.wait_for_notice(room, bot_id, "Subscribed")
                client.events.clear()

            await store(app, range(BEFORE))
            await sent_at_least(app, 1)  # the fan-out is under way
            os.kill(homeserver.pid, signal.SIGKILL)  # type: ignore[arg-type]
            await homeserver.stop_async()  # reaps the killed process
            await store(app, range(BEFORE, BEFORE + DURING))
            await homeserver.start_async()
            await store(app, range(BEFORE + DURING, BEFORE + DURING + AFTER))

            total = BEFORE + DURING + AFTER
            for client, room in zip(clients, rooms, strict=True):
                seen = await collect_until_complete(client, room, bot_id, total)
                assert set(seen.values()) == {1}, f"lost or repeated alerts for {client.user_id}: {seen}"
            # An alert the homeserver stored just before it died reaches the reader at once, but the bot
            # never got the answer: it learns of it on the retry (the same transaction id, so the same event),
            # which backoff may schedule a while after the reader saw it.
            await sent_at_least(app, READERS * total, limit_s=120)
            counts = await app.storage.outbox.status_counts()
            assert counts == {"sent": READERS * total}, counts
            retried = await scalar(app.storage.db.conn, "SELECT COUNT(*) FROM outbox WHERE attempts > 0")
            assert retried >= READERS * DURING, "the alerts stored during the outage must have failed first"
    finally:
        for client in clients:
            await client.close()


async def test_a_repeated_transaction_id_after_a_crash_is_one_event(
    tmp_path: Path, homeserver: SynapseServer, bot_account: MatrixUser, admin_account: MatrixUser
) -> None:
    """What makes the resend after a crash harmless: the same idempotency key gives the same event, even
    when the homeserver itself was SIGKILLed in between."""
    reader = register(homeserver, f"reader-tx-{secrets.token_hex(3)}")
    async with (
        user_client(homeserver, reader) as client,
        running_app(app_settings(tmp_path, homeserver, bot_account, admin_account), load_seeds=False) as app,
    ):
        room = await dm_with_bot(client, bot_account.user_id)
        [matrix] = app.transports
        message = OutgoingMessage("<b>Einmalig</b> Meldung", idempotency_key="o999.0")
        first = await matrix.messenger.send(room, message)
        os.kill(homeserver.pid, signal.SIGKILL)  # type: ignore[arg-type]
        await homeserver.stop_async()
        await homeserver.start_async()
        again = await matrix.messenger.send(room, message)
        assert again.message_ids == first.message_ids
        await client.wait_for_notice(room, bot_account.user_id, "Einmalig")
        assert not any("Einmalig" in body for body in await client.notices_from(room, bot_account.user_id))


async def probe_every_admin_command(client: UserClient, room: str, bot_id: str, feed_url: str) -> None:
    for name in admin_commands():
        await client.say(room, f"!{name} {admin_arguments(name, feed_url)}")
        refusal = await client.wait_for_notice(room, bot_id, "Only bot admins")
        assert refusal["content"]["body"].endswith(f"{name}."), refusal["content"]["body"]
        filename, content = admin_upload(name, feed_url)
        file_event = await client.send_file(room, filename, content)
        await client.say(room, f"!{name}")
        refusal = await client.wait_for_notice(room, bot_id, "Only bot admins")
        assert refusal["content"]["body"].endswith(f"{name}."), refusal["content"]["body"]
        await client.say(room, f"!{name}", reply_to=file_event)  # the file handed over as a reply
        refusal = await client.wait_for_notice(room, bot_id, "Only bot admins")
        assert refusal["content"]["body"].endswith(f"{name}."), refusal["content"]["body"]


async def test_a_non_admin_is_refused_every_admin_command_on_matrix(
    tmp_path: Path, homeserver: SynapseServer, bot_account: MatrixUser, admin_account: MatrixUser
) -> None:
    bot_id = bot_account.user_id
    intruder = register(homeserver, f"intruder-{secrets.token_hex(3)}")
    async with (
        user_client(homeserver, intruder) as client,
        user_client(homeserver, admin_account) as admin,
        running_app(app_settings(tmp_path, homeserver, bot_account, admin_account), load_seeds=False) as app,
    ):
        fetches = record_fetches(app)
        room = await dm_with_bot(client, bot_id)
        await client.say(room, "!help")
        await client.wait_for_notice(room, bot_id, "subscribe")
        feed_url = f"{homeserver.url}/_matrix/client/versions"  # a real address a fetch would reach

        # A group the intruder created (power level 100: a chat admin, still no bot admin) and a DM.
        group = await client.create_room([bot_id, admin_account.user_id], name="Intruder desk")
        await client.wait_for_membership(group, bot_id, "join")
        await admin.join(group)
        await client.wait_for_membership(group, admin_account.user_id, "join")
        await client.say(group, "!help")
        await client.wait_for_notice(group, bot_id, "subscribe")
        before = await snapshot(app.storage.db.conn)

        names = admin_commands()
        for target in (room, group):
            await probe_every_admin_command(client, target, bot_id, feed_url)

        # Two rooms, two ways to attach (the next message, a reply): every file probe carried its file.
        assert sorted(fetches.arrived) == sorted(names * 4), "each upload probe must carry its file"
        assert fetches.fetched == [], "a refused file was downloaded"
        assert changed_tables(before, await snapshot(app.storage.db.conn)) == []

        # The probe sees an admin's upload being downloaded and stored.
        admin_room = await dm_with_bot(admin, bot_id)
        await admin.send_file(admin_room, "putin.txt", admin_upload("addseed", "")[1])
        await admin.say(admin_room, "!addseed")
        await admin.wait_for_notice(admin_room, bot_id, "Stored 1 new article")
        assert fetches.fetched == ["addseed"]
