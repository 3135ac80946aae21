"""The whole application on Matrix: real Synapse, real handlers, real SQLite, a nio client as the user."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import running_app
from bot.storage.store import Storage
from bot.transports.matrix import STATE_ACCESS_TOKEN, STATE_DEVICE_ID
from config.settings import MatrixSettings, Settings
from tests.matrix.conftest import REPO, Accounts
from tests.matrix.synapse import SynapseServer
from tests.matrix.user import UserClient

pytestmark = pytest.mark.matrix

UPLOADED_TITLE = "Putin empfängt Kim im Fernen Osten"
UPLOADED_SEED = f"""date 2024-06
{UPLOADED_TITLE}

Das Wichtigste in Kürze: Kremlchef Wladimir Putin hat Nordkoreas Machthaber Kim Jong-Un in Wladiwostok empfangen.
Beide sprachen nach Angaben des Kreml über Munition und eine engere militärische Zusammenarbeit.
Westliche Regierungen warnten vor einem Waffendeal, der den Krieg in der Ukraine verlängern könnte.
"""


def app_settings(
    tmp_path: Path, synapse: SynapseServer, accounts: Accounts, seeds_dir: Path = REPO / "seeds"
) -> Settings:
    return Settings(  # type: ignore[call-arg]
        db_path=tmp_path / "db.sqlite",
        seeds_dir=seeds_dir,
        matrix=MatrixSettings(
            homeserver=synapse.url,
            user_id=accounts.bot.user_id,
            password=accounts.bot.password,
            admin_ids=[accounts.admin.user_id],
            sync_timeout_ms=1000,
        ),
        _env_file=None,
    )


async def dm_with_bot(user: UserClient, bot_id: str) -> str:
    room_id = await user.create_room([bot_id], direct=True)
    await user.wait_for_membership(room_id, bot_id, "join")
    return room_id


async def stored_login(db_path: Path) -> tuple[str | None, str | None]:
    storage = await Storage.open(db_path)
    try:
        return await storage.kv.get(STATE_DEVICE_ID), await storage.kv.get(STATE_ACCESS_TOKEN)
    finally:
        await storage.close()


async def test_subscribe_list_unsubscribe_in_a_dm_and_rights_in_a_group(
    tmp_path: Path, synapse: SynapseServer, accounts: Accounts, alice: UserClient, bob: UserClient
) -> None:
    bot = accounts.bot.user_id
    async with running_app(app_settings(tmp_path, synapse, accounts)):
        dm = await dm_with_bot(alice, bot)
        await alice.say(dm, "!subscribe Putin")
        subscribed = await alice.wait_for_notice(dm, bot, "Subscribed")
        assert "<b>Putin</b>" in subscribed["content"]["formatted_body"]
        await alice.say(dm, "!list")
        listing = await alice.wait_for_notice(dm, bot, "follows")
        assert "Putin" in listing["content"]["body"]
        assert "!unsubscribe" in listing["content"]["body"]  # the remove button, as a typed hint
        await alice.say(dm, "!unsubscribe 1")
        await alice.wait_for_notice(dm, bot, "Unsubscribed: Putin")
        await alice.say(dm, "!list")
        await alice.wait_for_notice(dm, bot, "follows nothing")

        group = await alice.create_room([bot, bob.user_id], name="Desk")
        await alice.wait_for_membership(group, bot, "join")
        await bob.join(group)
        await alice.wait_for_membership(group, bob.user_id, "join")
        await bob.say(group, "!subscribe Putin")  # power level 0 in a three-member room
        refusal = await alice.wait_for_notice(group, bot, "admins")
        assert "!list" in refusal["content"]["body"]  # the reply speaks Matrix command syntax
        assert "/list" not in refusal["content"]["body"]
        await alice.say(group, "!subscribe Putin")  # the creator may
        await alice.wait_for_notice(group, bot, "Subscribed: Putin")
        await bob.say(group, "!list")  # reading is for everyone
        group_list = await alice.wait_for_notice(group, bot, "follows")
        assert "Putin" in group_list["content"]["body"]


async def test_admin_upload_alerts_the_subscribed_user(
    tmp_path: Path, synapse: SynapseServer, accounts: Accounts, alice: UserClient, admin: UserClient
) -> None:
    bot = accounts.bot.user_id
    async with running_app(app_settings(tmp_path, synapse, accounts)):
        alice_dm = await dm_with_bot(alice, bot)
        await alice.say(alice_dm, "!subscribe Putin")
        await alice.wait_for_notice(alice_dm, bot, "Subscribed")
        alice.events.clear()  # forget the archive's answer to the subscription; wait for the alert only

        admin_dm = await dm_with_bot(admin, bot)
        await alice.say(alice_dm, "!addseed")  # not an admin
        await alice.wait_for_notice(alice_dm, bot, "admins")
        await admin.send_file(admin_dm, "putin-kim.txt", UPLOADED_SEED.encode())
        await admin.say(admin_dm, "!addseed")
        stored = await admin.wait_for_notice(admin_dm, bot, UPLOADED_TITLE)
        assert "1" in stored["content"]["body"]

        alert = await alice.wait_for_notice(alice_dm, bot, UPLOADED_TITLE)
        body = alert["content"]["body"]
        assert body.index(UPLOADED_TITLE) < body.index("• ")
        assert alert["content"]["format"] == "org.matrix.custom.html"


async def test_bot_restart_without_replay_and_homeserver_restart_survived(
    tmp_path: Path, synapse: SynapseServer, accounts: Accounts, alice: UserClient
) -> None:
    bot = accounts.bot.user_id
    settings = app_settings(tmp_path, synapse, accounts)
    async with running_app(settings):
        dm = await dm_with_bot(alice, bot)
        await alice.say(dm, "!subscribe Putin")
        await alice.wait_for_notice(dm, bot, "Subscribed")
        await alice.notices_from(dm, bot)  # let any follow-up message of that reply arrive
        alice.events.clear()
    first_login = await stored_login(settings.db_path)

    async with running_app(settings):
        await alice.say(dm, "!list")
        await alice.wait_for_notice(dm, bot, "follows")
        # Only the new command was answered: the earlier "!subscribe Putin" was not executed again.
        assert await alice.notices_from(dm, bot) == []

        await synapse.restart_async()
        await alice.say(dm, "!unsubscribe Putin")
        await alice.wait_for_notice(dm, bot, "Unsubscribed: Putin")

    assert await stored_login(settings.db_path) == first_login  # no second password login
