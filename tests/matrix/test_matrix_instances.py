"""Two instances on one PostgreSQL database with Matrix (the supported setup: the crypto store on a volume both
reach): only the leader runs the Matrix device; when it steps back the other one takes over the same device
with the same keys, so encrypted rooms keep working and no new device appears."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.app import App, running_app
from bot.transports.matrix import MatrixTransport
from config.settings import MatrixSettings, Settings
from tests.matrix.conftest import Accounts
from tests.matrix.synapse import MatrixUser, SynapseServer
from tests.matrix.test_matrix_e2ee import bot_account, decrypted_notice, encrypted_room, publish, user
from tests.waiting import eventually

pytestmark = pytest.mark.matrix
__all__ = ["bot_account"]  # the fixture, shared with the e2ee tests


def instance_settings(tmp_path: Path, url: str, synapse: SynapseServer, bot: MatrixUser) -> Settings:
    return Settings(  # type: ignore[call-arg]
        db_path=tmp_path / "unused.db",
        database_url=url,
        seeds_dir=tmp_path / "none",
        matrix=MatrixSettings(
            homeserver=synapse.url,
            user_id=bot.user_id,
            password=bot.password,
            store_dir=tmp_path / "shared-store",
            sync_timeout_ms=1000,
        ),
        _env_file=None,
    )


def device_of(app: App) -> MatrixTransport:
    [matrix] = [t for t in app.devices if isinstance(t, MatrixTransport)]
    return matrix


def leads(app: App) -> bool:
    return bool(app.services.scheduler._scheduler.running) and device_of(app).synced


async def test_the_follower_takes_over_the_same_encrypted_device(
    tmp_path: Path, synapse: SynapseServer, accounts: Accounts, bot_account: MatrixUser, pg_database_url: str
) -> None:
    bot = bot_account.user_id
    settings = instance_settings(tmp_path, pg_database_url, synapse, bot_account)
    alice = await user(synapse, accounts.alice, tmp_path / "alice")
    try:
        async with running_app(settings, load_seeds=False) as first, running_app(settings, load_seeds=False) as second:
            await eventually(lambda: leads(first) or leads(second), what="a leader with a synced Matrix device")
            leader, follower = (first, second) if leads(first) else (second, first)
            device = device_of(leader).device_id
            assert not device_of(follower).synced  # one device, one process: the follower waits

            dm = await encrypted_room(alice, bot, direct=True)
            await alice.say(dm, "!subscribe Putin")
            await decrypted_notice(alice, dm, bot, "Subscribed")

            taken_over_ms = time.time() * 1000  # Synapse stamps events with this machine's clock
            await leader.stop_leading()
            await eventually(lambda: leads(follower), what="the follower leading")
            assert device_of(follower).device_id == device  # the same device and keys, not a new login

            await alice.say(dm, "!list")
            await decrypted_notice(alice, dm, bot, "Putin")
            title = await publish(follower, 1)
            await decrypted_notice(alice, dm, bot, title)
            assert not alice.unreadable_from(bot, since_ms=taken_over_ms)
    finally:
        await alice.close()
