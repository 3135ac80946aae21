"""Fixtures for the Matrix tests: one Synapse per test session, users registered through its admin API."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.matrix.synapse import MatrixUser, SynapseError, SynapseServer, ensure_synapse
from tests.matrix.user import UserClient

REPO = Path(__file__).resolve().parents[2]
SYNAPSE_VENV = REPO / ".venv-synapse"


@dataclass(frozen=True, slots=True)
class Accounts:
    bot: MatrixUser
    admin: MatrixUser  # a bot admin (listed in ADMIN_IDS), not a homeserver admin
    alice: MatrixUser
    bob: MatrixUser
    server_admin: MatrixUser  # a homeserver admin, for the admin API


@contextlib.contextmanager
def homeserver_in(workdir: Path, purpose: str) -> Iterator[SynapseServer]:
    """Install (once), start and finally stop a throw-away Synapse. No skip: without a homeserver the Matrix
    tests must fail and say why."""
    try:
        python = ensure_synapse(SYNAPSE_VENV)
    except SynapseError as exc:
        pytest.fail(f"cannot install Synapse for {purpose}: {exc}", pytrace=False)
    server = SynapseServer(python, workdir)
    try:
        server.generate_keys()
        server.start()
    except SynapseError as exc:
        server.stop()
        pytest.fail(f"cannot start Synapse for {purpose}: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseServer]:
    with homeserver_in(tmp_path_factory.mktemp("synapse"), "the Matrix tests") as server:
        yield server


@pytest.fixture(scope="session")
def accounts(synapse: SynapseServer) -> Accounts:
    def user(localpart: str, *, server_admin: bool = False) -> MatrixUser:
        return synapse.register(localpart, secrets.token_urlsafe(12), admin=server_admin)

    return Accounts(
        bot=user("newsbot"),
        admin=user("admin"),
        alice=user("alice"),
        bob=user("bob"),
        server_admin=user("operator", server_admin=True),
    )


@pytest.fixture
async def alice(synapse: SynapseServer, accounts: Accounts) -> AsyncIterator[UserClient]:
    client = UserClient(synapse.url, accounts.alice)
    await client.catch_up()
    yield client
    await client.close()


@pytest.fixture
async def admin(synapse: SynapseServer, accounts: Accounts) -> AsyncIterator[UserClient]:
    client = UserClient(synapse.url, accounts.admin)
    await client.catch_up()
    yield client
    await client.close()


@pytest.fixture
async def bob(synapse: SynapseServer, accounts: Accounts) -> AsyncIterator[UserClient]:
    client = UserClient(synapse.url, accounts.bob)
    await client.catch_up()
    yield client
    await client.close()
