"""End-to-end encryption against a real Synapse: the whole application, users with encrypting nio clients,
rooms created encrypted (``m.room.encryption`` in the initial state, as Element does)."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest
import vodozemac
from nio.crypto.sessions import OutboundGroupSession
from signedjson.key import decode_verify_key_base64
from signedjson.sign import verify_signed_json

from bot.app import App, running_app
from bot.core.ingest import ParsedItem
from bot.core.messaging import Image, OutgoingMessage
from bot.core.models import ArticleDraft
from bot.transports.matrix import (
    STATE_ACCESS_TOKEN,
    STATE_DEVICE_ID,
    MatrixLoginError,
    MatrixTransport,
    StoreLocked,
    store_file,
)
from config.settings import MatrixSettings, Settings
from tests.matrix.conftest import REPO, Accounts
from tests.matrix.e2e_user import EncryptedUser
from tests.matrix.fakes import RecordingHost
from tests.matrix.synapse import MatrixUser, SynapseServer
from tests.matrix.user import Event
from tests.waiting import eventually

pytestmark = pytest.mark.matrix

PICKLE = b"0" * 32
PNG = bytes.fromhex("89504e470d0a1a0a") + b"chart-bytes" * 50
TITLE = "Putin empfängt Kim in Wladiwostok zu Gesprächen"
SEED = f"""date 2024-06
{TITLE}

Kremlchef Wladimir Putin hat Nordkoreas Machthaber Kim Jong-Un in Wladiwostok empfangen.
Beide sprachen nach Angaben des Kreml über Munition und eine engere militärische Zusammenarbeit.
"""


@pytest.fixture
async def bot_account(synapse: SynapseServer) -> MatrixUser:
    """A bot account of its own: the cross-signing identity an account gets once belongs to the state of
    the installation that created it, and other tests' installations share the session's bot account."""
    localpart = f"e2eebot{secrets.token_hex(4)}"
    return await asyncio.to_thread(synapse.register, localpart, secrets.token_urlsafe(12))


def app_settings(tmp_path: Path, synapse: SynapseServer, accounts: Accounts, bot: MatrixUser) -> Settings:
    return Settings(  # type: ignore[call-arg]
        db_path=tmp_path / "db" / "newsalert.db",
        seeds_dir=REPO / "seeds",
        matrix=MatrixSettings(
            homeserver=synapse.url,
            user_id=bot.user_id,
            password=bot.password,
            admin_ids=[accounts.admin.user_id],
            sync_timeout_ms=1000,
        ),
        _env_file=None,
    )


async def user(synapse: SynapseServer, account: MatrixUser, store: Path) -> EncryptedUser:
    client = await EncryptedUser(synapse.url, account, store).login()
    await client.catch_up()
    return client


async def encrypted_room(owner: EncryptedUser, bot_id: str, *, others: tuple[str, ...] = (), direct: bool) -> str:
    room_id = await owner.create_room([bot_id, *others], direct=direct, encrypted=True)
    await owner.wait_for_membership(room_id, bot_id, "join")
    return room_id


async def decrypted_notice(client: EncryptedUser, room_id: str, bot_id: str, contains: str) -> Event:
    notice = await client.wait_for_notice(room_id, bot_id, contains)
    assert notice["event_id"] in client.decrypted, "the bot's message was not end-to-end encrypted"
    return notice


async def decrypted_notices(client: EncryptedUser, rooms: set[str], bot_id: str, contains: str) -> None:
    """One notice in each room, whichever comes first (waiting for one room in turn would consume the
    other room's notice if it came earlier)."""
    waiting = set(rooms)
    found: list[str] = []  # the room of each match, in order
    while waiting:

        def match(room_id: str, event: Event) -> bool:
            content = event.get("content") or {}
            hit = room_id in waiting and event.get("sender") == bot_id and contains in str(content.get("body", ""))
            if hit:
                found.append(room_id)
            return hit

        notice = await client.wait_for(match, f"a notice containing {contains!r} in each of {sorted(waiting)}")
        assert notice["event_id"] in client.decrypted, "the bot's message was not end-to-end encrypted"
        waiting.discard(found[-1])


def article(n: int) -> ParsedItem:
    body = (
        f"Kremlchef Wladimir Putin hat in Moskau die Meldung {n} bestätigt. Es ging nach Angaben des Kreml um "
        f"Vorgang {n * 7919}. Beobachter sprachen von Schritt {n} einer längeren Reihe von Treffen."
    )
    return ParsedItem(f"e2ee-{n}", ArticleDraft(title=f"Putin-Meldung {n} aus Moskau", body=body, lang="de"), "ok")


async def publish(app: App, n: int) -> str:
    report = await app.services.ingest.ingest_items([article(n)])
    assert report.count("new") == 1
    return f"Putin-Meldung {n} aus Moskau"


def matrix_of(app: App) -> MatrixTransport:
    [matrix] = [t for t in app.transports if isinstance(t, MatrixTransport)]
    return matrix


async def bot_device(app: App) -> str:
    device = matrix_of(app).device_id
    assert device
    return device


async def keys_query(client: EncryptedUser, user_id: str) -> dict[str, Any]:
    body = json.dumps({"device_keys": {user_id: []}})
    headers = {"Authorization": f"Bearer {client.client.access_token}", "Content-Type": "application/json"}
    response = await client.client.send("POST", "/_matrix/client/v3/keys/query", body, headers=headers)
    try:
        answer: dict[str, Any] = await response.json()
    finally:
        response.release()
    return answer


def only_key(key_object: dict[str, Any]) -> tuple[str, str]:
    [(key_id, key)] = key_object["keys"].items()
    return key_id, key


async def assert_cross_signed(client: EncryptedUser, bot_id: str, device_id: str) -> None:
    answer = await keys_query(client, bot_id)
    master_id, master = only_key(answer["master_keys"][bot_id])
    ssk_object = answer["self_signing_keys"][bot_id]
    ssk_id, ssk = only_key(ssk_object)
    verify_signed_json(ssk_object, bot_id, decode_verify_key_base64("ed25519", master_id.split(":", 1)[1], master))
    device = answer["device_keys"][bot_id][device_id]
    assert ssk_id in device["signatures"][bot_id]
    verify_signed_json(device, bot_id, decode_verify_key_base64("ed25519", ssk_id.split(":", 1)[1], ssk))


async def test_encrypted_dm_group_and_file_upload_with_a_cross_signed_device(
    tmp_path: Path, synapse: SynapseServer, accounts: Accounts, bot_account: MatrixUser
) -> None:
    bot = bot_account.user_id
    alice = await user(synapse, accounts.alice, tmp_path / "alice")
    bob = await user(synapse, accounts.bob, tmp_path / "bob")
    admin = await user(synapse, accounts.admin, tmp_path / "admin")
    try:
        async with running_app(app_settings(tmp_path, synapse, accounts, bot_account)) as app:
            dm = await encrypted_room(alice, bot, direct=True)
            await alice.say(dm, "!subscribe Putin")
            reply = await decrypted_notice(alice, dm, bot, "Subscribed")
            assert "<b>Putin</b>" in reply["content"]["formatted_body"]

            group = await encrypted_room(alice, bot, others=(bob.user_id,), direct=False)
            await bob.join(group)
            await alice.wait_for_membership(group, bob.user_id, "join")
            await alice.say(group, "!subscribe Putin")
            await decrypted_notice(alice, group, bot, "Subscribed")
            alice.events.clear()
            bob.events.clear()

            admin_dm = await encrypted_room(admin, bot, direct=True)
            file_event = await admin.send_file(admin_dm, "putin-kim.txt", SEED.encode())
            await admin.say(admin_dm, "!addseed", reply_to=file_event)
            await decrypted_notice(admin, admin_dm, bot, TITLE)

            await decrypted_notices(alice, {dm, group}, bot, TITLE)  # the two alerts arrive in any order
            await decrypted_notice(bob, group, bot, TITLE)
            assert not alice.unreadable_from(bot) and not bob.unreadable_from(bot)

            await assert_cross_signed(alice, bot, await bot_device(app))

            chart = Image(PNG, width=1200, height=675)
            await matrix_of(app).messenger.send(group, OutgoingMessage("<b>Putin</b>: 2 articles", image=chart))
            image = await alice.wait_for(
                lambda rid, e: rid == group and (e.get("content") or {}).get("msgtype") == "m.image", "the m.image"
            )
            assert image["event_id"] in alice.decrypted
            content = image["content"]
            assert "url" not in content  # an encrypted room gets the encrypted file, never a plain upload
            assert content["info"] == {"w": 1200, "h": 675, "size": len(PNG), "mimetype": "image/png"}
            assert content["body"] == "Putin: 2 articles"
            assert await alice.download_encrypted(content["file"]) == PNG
    finally:
        for client in (alice, bob, admin):
            await client.close()


async def test_restart_second_device_and_lost_store(
    tmp_path: Path, synapse: SynapseServer, accounts: Accounts, bot_account: MatrixUser
) -> None:
    bot = bot_account.user_id
    settings = app_settings(tmp_path, synapse, accounts, bot_account)
    alice = await user(synapse, accounts.alice, tmp_path / "alice")
    second: EncryptedUser | None = None
    try:
        async with running_app(settings) as app:
            first_device = await bot_device(app)
            dm = await encrypted_room(alice, bot, direct=True)
            await alice.say(dm, "!subscribe Putin")
            await decrypted_notice(alice, dm, bot, "Subscribed")

        async with running_app(settings) as app:  # the same store: same device, no new login
            assert await bot_device(app) == first_device
            await alice.say(dm, "!list")
            await decrypted_notice(alice, dm, bot, "follows")
            await decrypted_notice(alice, dm, bot, await publish(app, 1))

            second = await user(synapse, accounts.alice, tmp_path / "alice-phone")
            await second.say(dm, "!list")  # the bot learns the new device by the time it answers
            await decrypted_notice(second, dm, bot, "follows")
            title = await publish(app, 2)
            await decrypted_notice(second, dm, bot, title)
            await decrypted_notice(alice, dm, bot, title)

        shutil.rmtree(settings.matrix.store_path(settings.db_path))
        async with running_app(settings) as app:  # store lost: a new device, never the old id with new keys
            new_device = await bot_device(app)
            assert new_device != first_device
            await alice.wait_until_bot_device_known(bot, new_device)
            await alice.say(dm, "!list")
            await decrypted_notice(alice, dm, bot, "follows")
            await decrypted_notice(alice, dm, bot, await publish(app, 3))
            await assert_cross_signed(alice, bot, new_device)
    finally:
        await alice.close()
        if second is not None:
            await second.close()


def transport_settings(synapse: SynapseServer, bot: MatrixUser, store: Path, **overrides: Any) -> MatrixSettings:
    values: dict[str, Any] = {
        "homeserver": synapse.url,
        "user_id": bot.user_id,
        "password": bot.password,
        "sync_timeout_ms": 1000,
        "store_dir": store,
        **overrides,
    }
    return MatrixSettings(**values)


async def test_a_message_whose_key_comes_late_is_still_answered(
    tmp_path: Path, synapse: SynapseServer, accounts: Accounts, bot_account: MatrixUser
) -> None:
    host = RecordingHost()
    transport = MatrixTransport(transport_settings(synapse, bot_account, tmp_path / "store"), host)
    await transport.start()
    alice = await user(synapse, accounts.alice, tmp_path / "alice")
    try:
        dm = await encrypted_room(alice, bot_account.user_id, direct=True)
        await alice._until_room_known(dm)
        # Encrypt with a room key the bot has not been given yet (as when its to-device delivery is slow),
        # keeping a copy of the key as it was before the message moved its ratchet on.
        fresh = vodozemac.GroupSession()
        before = fresh.pickle(PICKLE)
        late = OutboundGroupSession(fresh)
        late.shared = True  # nio must not share it now
        alice.client.olm.outbound_group_sessions[dm] = late
        await alice.client.room_send(
            dm, "m.room.message", {"msgtype": "m.text", "body": "!subscribe Putin"}, ignore_unverified_devices=True
        )
        await eventually(lambda: transport.waiting_for_keys == 1, what="the bot to hold the undecryptable command")
        assert host.commands == []

        # Now the key arrives, from the message's own index on.
        alice.client.olm.outbound_group_sessions[dm] = OutboundGroupSession(
            vodozemac.GroupSession.from_pickle(before, PICKLE)
        )
        await alice.client.share_group_session(dm, ignore_unverified_devices=True)
        await decrypted_notice(alice, dm, bot_account.user_id, "did subscribe")
        assert host.names() == ["subscribe Putin"]
        assert transport.waiting_for_keys == 0
    finally:
        await alice.close()
        await transport.stop()


async def test_one_process_per_store_and_a_lost_store_with_only_a_token_stops_clearly(
    tmp_path: Path, synapse: SynapseServer, bot_account: MatrixUser
) -> None:
    host, store = RecordingHost(), tmp_path / "store"
    first = MatrixTransport(transport_settings(synapse, bot_account, store), host)
    await first.start()
    second = MatrixTransport(transport_settings(synapse, bot_account, store), RecordingHost())
    with pytest.raises(StoreLocked, match="only one newsalert may run on it"):
        await second.start()
    await second.stop()
    await first.stop()
    device, token = host.state[STATE_DEVICE_ID], host.state[STATE_ACCESS_TOKEN]

    shutil.rmtree(store)
    settings = transport_settings(synapse, bot_account, store, password=None, access_token=token)
    for state in (host, RecordingHost()):  # with the bot's state, and a fresh installation given that token
        lost = MatrixTransport(settings, state)
        with pytest.raises(MatrixLoginError, match=f"crypto store of device {device} is missing") as refused:
            await lost.start()
        await lost.stop()
        assert "\n" not in str(refused.value) and "NEWSALERT_MATRIX__PASSWORD" in str(refused.value)
        assert not store_file(store, bot_account.user_id, device).exists()


async def test_a_token_revoked_while_running_gives_a_new_device_with_new_keys(
    tmp_path: Path, synapse: SynapseServer, accounts: Accounts, bot_account: MatrixUser
) -> None:
    host, store = RecordingHost(), tmp_path / "store"
    transport = MatrixTransport(transport_settings(synapse, bot_account, store), host)
    await transport.start()
    alice = await user(synapse, accounts.alice, tmp_path / "alice")
    try:
        dm = await encrypted_room(alice, bot_account.user_id, direct=True)
        old_device = transport.device_id
        headers = {"Authorization": f"Bearer {host.state[STATE_ACCESS_TOKEN]}"}
        response = await alice.client.send("POST", "/_matrix/client/v3/logout", "{}", headers=headers)
        response.release()
        assert response.status == 200  # e.g. an admin signed the bot's session out in Element

        await eventually(lambda: host.state[STATE_DEVICE_ID] != old_device, what="a login as a new device")
        new_device = host.state[STATE_DEVICE_ID]
        assert store_file(store, bot_account.user_id, new_device).exists()
        await alice.wait_until_bot_device_known(bot_account.user_id, new_device)
        await alice.say(dm, "!subscribe Kim")
        await decrypted_notice(alice, dm, bot_account.user_id, "did subscribe Kim")
    finally:
        await alice.close()
        await transport.stop()
