"""The transport against a real Synapse, with a recording fake of the application behind it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.core.messaging import ChatGone, Image, OutgoingMessage, RetryLater, TransientError
from bot.core.models import ChatKey
from bot.transports.matrix import (
    STATE_ACCESS_TOKEN,
    STATE_DEVICE_ID,
    STATE_NEXT_BATCH,
    MatrixLoginError,
    MatrixTransport,
)
from config.settings import MatrixSettings
from tests.matrix.conftest import Accounts
from tests.matrix.fakes import RecordingHost
from tests.matrix.synapse import SynapseServer
from tests.matrix.user import UserClient
from tests.waiting import eventually

pytestmark = pytest.mark.matrix

Starter = Callable[..., Awaitable[MatrixTransport]]


@pytest.fixture
async def start_bot(synapse: SynapseServer, accounts: Accounts, tmp_path: Path) -> AsyncIterator[Starter]:
    """Start a transport for the bot account; every one still running is stopped at the end."""
    running: list[MatrixTransport] = []

    async def start(host: RecordingHost, **overrides: Any) -> MatrixTransport:
        settings = MatrixSettings(
            homeserver=synapse.url,
            user_id=accounts.bot.user_id,
            password=accounts.bot.password,
            admin_ids=[accounts.admin.user_id],
            sync_timeout_ms=1000,
            store_dir=tmp_path / "store",
            **overrides,
        )
        transport = MatrixTransport(settings, host, backoff_initial_s=0.2, backoff_max_s=2.0)
        await transport.start()
        running.append(transport)
        return transport

    yield start
    for transport in running:
        await transport.stop()


async def dm_with_bot(user: UserClient, bot_id: str) -> str:
    room_id = await user.create_room([bot_id], direct=True)
    await user.wait_for_membership(room_id, bot_id, "join")
    return room_id


async def test_dm_command_is_answered_with_an_html_notice(
    start_bot: Starter, alice: UserClient, accounts: Accounts
) -> None:
    host = RecordingHost()
    await start_bot(host)
    room_id = await dm_with_bot(alice, accounts.bot.user_id)

    await alice.say(room_id, "!subscribe Putin")
    notice = await alice.wait_for_notice(room_id, accounts.bot.user_id, "did subscribe")

    assert notice["content"]["body"] == "did subscribe Putin & manage=yes"
    assert notice["content"]["formatted_body"] == "did <b>subscribe</b> Putin &amp; manage=yes"
    [command] = host.commands
    assert (command.platform, command.chat_id, command.user_id) == ("matrix", room_id, alice.user_id)
    assert (command.name, command.args, command.is_group, command.is_bot_admin) == ("subscribe", "Putin", False, False)

    await alice.say(room_id, "just chatting, no command")
    await alice.say(room_id, "!list")
    listing = await alice.wait_for_notice(room_id, accounts.bot.user_id, "Putin")
    assert "!unsubscribe 1" in listing["content"]["body"]
    assert host.names() == ["subscribe Putin", "list"]


async def test_group_room_power_levels_decide_who_may_manage(
    start_bot: Starter, admin: UserClient, bob: UserClient, alice: UserClient, accounts: Accounts
) -> None:
    host = RecordingHost()
    await start_bot(host)
    bot_id = accounts.bot.user_id
    room_id = await alice.create_room([bot_id, bob.user_id, admin.user_id], name="Newsroom", power_levels={})
    await alice.wait_for_membership(room_id, bot_id, "join")
    await bob.join(room_id)
    await admin.join(room_id)
    await alice.wait_for_membership(room_id, admin.user_id, "join")

    await bob.say(room_id, "!subscribe Kim")
    await alice.wait_for_notice(room_id, bot_id, "manage=no")
    await bob.say(room_id, "!latest")  # not a managing command: no power check
    await alice.wait_for_notice(room_id, bot_id, "did latest")
    await alice.say(room_id, "!subscribe Kim")  # the room creator has power level 100
    await alice.wait_for_notice(room_id, bot_id, "manage=yes")
    await admin.say(room_id, "!unsubscribe Kim")  # power level 0, but a bot admin
    await alice.wait_for_notice(room_id, bot_id, "manage=yes")

    bob_cmd, latest, alice_cmd, admin_cmd = host.commands
    assert bob_cmd.is_group and not bob_cmd.can_manage_chat and not bob_cmd.is_bot_admin
    assert latest.can_manage_chat  # only computed when the command needs it
    assert alice_cmd.can_manage_chat and not alice_cmd.is_bot_admin
    assert admin_cmd.is_bot_admin and admin_cmd.can_manage_chat
    assert bob_cmd.chat_title == "Newsroom"


async def test_file_then_addseed_and_reply_to_file_attach_the_download(
    start_bot: Starter, admin: UserClient, accounts: Accounts
) -> None:
    host = RecordingHost()
    await start_bot(host)
    bot_id = accounts.bot.user_id
    room_id = await dm_with_bot(admin, bot_id)
    seed = "date 2023-05\nGipfel in Berlin\n\nKanzler trifft Präsidenten.".encode()

    file_event = await admin.send_file(room_id, "gipfel.txt", seed)
    await admin.say(room_id, "!addseed")
    await admin.wait_for_notice(room_id, bot_id, "gipfel.txt")

    await admin.say(room_id, "!addseed")  # the file was claimed by the previous message
    await admin.wait_for_notice(room_id, bot_id, "did addseed")

    await admin.say(room_id, "!addseed", reply_to=file_event)
    await admin.wait_for_notice(room_id, bot_id, "gipfel.txt")

    first, bare, replied = host.commands
    assert first.attachment is not None and replied.attachment is not None and bare.attachment is None
    assert (first.attachment.filename, first.attachment.size, first.attachment.mime_type) == (
        "gipfel.txt",
        len(seed),
        "text/plain",
    )
    assert host.fetched == [seed, seed]


async def test_reply_to_a_file_sent_before_a_restart_still_finds_it(
    start_bot: Starter, admin: UserClient, accounts: Accounts
) -> None:
    host = RecordingHost()
    first = await start_bot(host)
    room_id = await dm_with_bot(admin, accounts.bot.user_id)
    file_event = await admin.send_file(room_id, "later.txt", b"date 2024-01\nLater\n\nText.")
    await admin.say(room_id, "hello")  # the file is no longer "the previous message"
    await admin.wait_for(lambda rid, e: e.get("content", {}).get("body") == "hello", "own message echo")
    await first.stop()

    await start_bot(host)  # a fresh process knows nothing about the file: it asks the homeserver
    await admin.say(room_id, "!addseed", reply_to=file_event)
    await admin.wait_for_notice(room_id, accounts.bot.user_id, "later.txt")
    assert host.fetched == [b"date 2024-01\nLater\n\nText."]


async def test_oversized_download_is_refused_whatever_the_announced_size(
    start_bot: Starter, admin: UserClient, accounts: Accounts
) -> None:
    host = RecordingHost()
    transport = await start_bot(host, max_upload_bytes=100)
    room_id = await dm_with_bot(admin, accounts.bot.user_id)
    await admin.send_file(room_id, "big.txt", b"x" * 500)
    await admin.say(room_id, "!addseed")
    await admin.wait_for_notice(room_id, accounts.bot.user_id, "refused")
    assert host.refused == ["the file is larger than the limit of 100 bytes"]
    assert transport.synced


async def test_restart_resumes_from_the_stored_token_without_replay_or_new_login(
    start_bot: Starter, alice: UserClient, accounts: Accounts
) -> None:
    host = RecordingHost()
    bot_id = accounts.bot.user_id
    first = await start_bot(host)
    room_id = await dm_with_bot(alice, bot_id)
    await alice.say(room_id, "!subscribe one")
    await alice.wait_for_notice(room_id, bot_id, "did subscribe one")
    token, device = host.state[STATE_ACCESS_TOKEN], host.state[STATE_DEVICE_ID]
    await first.stop()

    await alice.say(room_id, "!subscribe two")  # sent while the bot is down: answered after the restart
    await start_bot(host)
    await alice.wait_for_notice(room_id, bot_id, "did subscribe two")
    await alice.say(room_id, "!subscribe three")
    await alice.wait_for_notice(room_id, bot_id, "did subscribe three")

    assert host.names() == ["subscribe one", "subscribe two", "subscribe three"]
    with pytest.raises(TransientError, match="stopped"):  # the outbox keeps it for the next run
        await first.messenger.send(room_id, OutgoingMessage("late alert"))
    assert (host.state[STATE_ACCESS_TOKEN], host.state[STATE_DEVICE_ID]) == (token, device)


async def test_first_start_does_not_execute_history(
    start_bot: Starter, alice: UserClient, accounts: Accounts
) -> None:
    bot_id = accounts.bot.user_id
    warmup = await start_bot(RecordingHost())
    room_id = await dm_with_bot(alice, bot_id)
    await warmup.stop()
    await alice.say(room_id, "!subscribe old news")

    host = RecordingHost()  # empty state: a brand-new installation
    await start_bot(host)
    await alice.say(room_id, "!subscribe fresh")
    await alice.wait_for_notice(room_id, bot_id, "did subscribe fresh")
    assert host.names() == ["subscribe fresh"]
    assert STATE_NEXT_BATCH in host.state


async def test_homeserver_restart_is_survived(
    start_bot: Starter, synapse: SynapseServer, alice: UserClient, accounts: Accounts
) -> None:
    host = RecordingHost()
    await start_bot(host)
    room_id = await dm_with_bot(alice, accounts.bot.user_id)
    await alice.say(room_id, "!subscribe before")
    await alice.wait_for_notice(room_id, accounts.bot.user_id, "did subscribe before")

    await synapse.restart_async()

    await alice.say(room_id, "!subscribe after")
    await alice.wait_for_notice(room_id, accounts.bot.user_id, "did subscribe after")
    assert host.names() == ["subscribe before", "subscribe after"]


async def test_with_encryption_off_an_encrypted_room_gets_one_clear_notice(
    start_bot: Starter, alice: UserClient, accounts: Accounts
) -> None:
    host = RecordingHost()
    bot = await start_bot(host, encryption=False)
    bot_id = accounts.bot.user_id
    room_id = await alice.create_room([bot_id], encrypted=True)
    await alice.wait_for_membership(room_id, bot_id, "join")
    ciphertext = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "ciphertext": "AwgAEnAC",
        "device_id": "ALICEDEV",
        "sender_key": "c2VuZGVya2V5",
        "session_id": "c2Vzc2lvbg",
    }
    await alice.send_event(room_id, "m.room.encrypted", ciphertext)
    await alice.wait_for_notice(room_id, bot_id, "end-to-end encrypted")
    await alice.send_event(room_id, "m.room.encrypted", ciphertext)

    assert not [body for body in await alice.notices_from(room_id, bot_id) if "encrypted" in body]

    await bot.stop()
    await start_bot(host, encryption=False)  # the notice is remembered across restarts
    await alice.send_event(room_id, "m.room.encrypted", ciphertext)
    await alice.say(room_id, "!list")  # plain-text commands still work in such a room
    await alice.wait_for_notice(room_id, bot_id, "Putin")
    assert host.names() == ["list"]
    assert not [body for body in await alice.notices_from(room_id, bot_id) if "encrypted" in body]


async def test_kick_reports_the_chat_gone_and_sending_there_fails(
    start_bot: Starter, alice: UserClient, accounts: Accounts
) -> None:
    host = RecordingHost()
    transport = await start_bot(host)
    bot_id = accounts.bot.user_id
    room_id = await alice.create_room([bot_id], name="Kick test")
    await alice.wait_for_membership(room_id, bot_id, "join")

    await alice.client.room_kick(room_id, bot_id, reason="test")
    await alice.wait_for_membership(room_id, bot_id, "leave")
    await eventually(lambda: ChatKey("matrix", room_id) in host.gone, what="chat_gone after the kick")
    with pytest.raises(ChatGone):
        await transport.messenger.send(room_id, OutgoingMessage("anyone there?"))


async def test_invites_from_unlisted_servers_are_declined(
    start_bot: Starter, alice: UserClient, accounts: Accounts
) -> None:
    await start_bot(RecordingHost(), allowed_inviters=[":newsroom.example"])
    room_id = await alice.create_room([accounts.bot.user_id])
    await alice.wait_for_membership(room_id, accounts.bot.user_id, "leave")


async def test_idempotency_key_makes_a_resend_a_no_op(
    start_bot: Starter, alice: UserClient, accounts: Accounts
) -> None:
    transport = await start_bot(RecordingHost())
    room_id = await dm_with_bot(alice, accounts.bot.user_id)
    message = OutgoingMessage("<b>Alert</b>\n• one", idempotency_key="outbox:7,8")

    first = await transport.messenger.send(room_id, message)
    again = await transport.messenger.send(room_id, message)  # e.g. after a crash before "sent" was stored

    assert first == again
    await alice.wait_for_notice(room_id, accounts.bot.user_id, "Alert")
    assert await alice.notices_from(room_id, accounts.bot.user_id) == []


async def test_rate_limit_becomes_retry_later_with_the_servers_delay(
    start_bot: Starter, synapse: SynapseServer, alice: UserClient, accounts: Accounts
) -> None:
    transport = await start_bot(RecordingHost())
    room_id = await dm_with_bot(alice, accounts.bot.user_id)
    await synapse.override_ratelimit_async(accounts.server_admin, accounts.bot.user_id, per_second=1)
    try:
        with pytest.raises(RetryLater) as limited:
            for n in range(20):  # one message per second allowed: back-to-back sends hit the limit
                await transport.messenger.send(room_id, OutgoingMessage(f"burst {n}"))
    finally:
        await synapse.override_ratelimit_async(accounts.server_admin, accounts.bot.user_id, per_second=None)
    assert 0 < limited.value.seconds <= 2


async def test_outage_makes_sends_transient_and_the_sync_loop_recovers(
    start_bot: Starter, synapse: SynapseServer, alice: UserClient, accounts: Accounts
) -> None:
    host = RecordingHost()
    transport = await start_bot(host)
    room_id = await dm_with_bot(alice, accounts.bot.user_id)

    await synapse.stop_async()
    try:
        with pytest.raises(TransientError):
            await transport.messenger.send(room_id, OutgoingMessage("nobody home"))
    finally:
        await synapse.start_async()
    await alice.say(room_id, "!subscribe recovered")
    await alice.wait_for_notice(room_id, accounts.bot.user_id, "did subscribe recovered")


async def test_wrong_password_is_a_clear_login_error(
    synapse: SynapseServer, accounts: Accounts, tmp_path: Path
) -> None:
    settings = MatrixSettings(
        homeserver=synapse.url, user_id=accounts.bot.user_id, password="not-the-password", store_dir=tmp_path
    )
    transport = MatrixTransport(settings, RecordingHost())
    with pytest.raises(MatrixLoginError, match="login as @newsbot:localhost failed"):
        await transport.start()
    await transport.stop()


async def test_access_token_login_stores_the_device(
    synapse: SynapseServer, accounts: Accounts, tmp_path: Path
) -> None:
    host = RecordingHost()
    settings = MatrixSettings(
        homeserver=synapse.url,
        user_id=accounts.bot.user_id,
        access_token=accounts.bot.access_token,
        store_dir=tmp_path,
    )
    transport = MatrixTransport(settings, host)
    await transport.start()
    try:
        assert transport.synced
        assert host.state[STATE_DEVICE_ID] == accounts.bot.device_id
    finally:
        await transport.stop()


async def test_a_command_in_a_thread_is_answered_in_that_thread(
    start_bot: Starter, alice: UserClient, accounts: Accounts
) -> None:
    bot_id, host = accounts.bot.user_id, RecordingHost()
    await start_bot(host)
    room_id = await dm_with_bot(alice, bot_id)
    root = await alice.say(room_id, "Thread about Korea")
    content = {
        "msgtype": "m.text",
        "body": "!subscribe Kim",
        "m.relates_to": {"rel_type": "m.thread", "event_id": root, "is_falling_back": True,
                         "m.in_reply_to": {"event_id": root}},
    }
    command_event = await alice.send_event(room_id, "m.room.message", content)
    reply = await alice.wait_for_notice(room_id, bot_id, "did subscribe")
    relation = reply["content"]["m.relates_to"]
    assert (relation["rel_type"], relation["event_id"]) == ("m.thread", root)
    assert relation["m.in_reply_to"]["event_id"] == command_event
    [command] = host.commands
    assert command.chat_id == room_id  # the room stays the subscriber

    await alice.say(room_id, "!list")  # outside the thread: a plain reply
    listing = await alice.wait_for_notice(room_id, bot_id, "Putin")
    assert "m.relates_to" not in listing["content"]


PNG = bytes.fromhex("89504e470d0a1a0a") + b"chart-bytes" * 50


async def test_an_image_is_sent_as_m_image_with_its_info_and_caption(
    start_bot: Starter, alice: UserClient, accounts: Accounts
) -> None:
    transport = await start_bot(RecordingHost())
    room_id = await dm_with_bot(alice, accounts.bot.user_id)
    chart = Image(PNG, width=1200, height=675)
    await eventually(lambda: transport.synced, what="first sync")
    await _send_when_synced(transport, room_id, OutgoingMessage("<b>Putin</b>: 41 articles", image=chart))

    event = await alice.wait_for(
        lambda rid, e: rid == room_id and (e.get("content") or {}).get("msgtype") == "m.image", "the m.image"
    )
    content = event["content"]
    assert content["info"] == {"w": 1200, "h": 675, "size": len(PNG), "mimetype": "image/png"}
    assert content["body"] == "Putin: 41 articles"
    assert content["filename"] == "chart.png"
    answer = await alice.client.download(mxc=content["url"])
    assert answer.body == PNG


async def _send_when_synced(transport: MatrixTransport, room_id: str, message: OutgoingMessage) -> None:
    """The room may be seconds old: the outbox would retry a TransientError, so does this helper."""
    deadline = time.monotonic() + 30
    while True:
        try:
            await transport.messenger.send(room_id, message)
            return
        except TransientError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
