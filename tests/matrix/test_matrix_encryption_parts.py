"""The encryption parts that need no homeserver: waiting for late keys, and one process per store."""

from __future__ import annotations

from pathlib import Path

import pytest
from nio import AsyncClient, AsyncClientConfig, MegolmEvent
from nio.exceptions import EncryptionError
from nio.store import SqliteStore

from bot.transports.matrix.encryption import StoreLock, StoreLocked, pickle_key
from bot.transports.matrix.session import MatrixLoginError, unreadable_store_is_fatal
from bot.transports.matrix.undecryptable import KEY_WAIT_S, NOTICE_EVERY_S, Undecryptable
from tests.matrix.fakes import RecordingHost


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Decrypted:
    def __init__(self, source: dict[str, object]) -> None:
        self.source = source


def megolm(event_id: str, sender: str = "@alice:x") -> MegolmEvent:
    source = {
        "type": "m.room.encrypted",
        "event_id": event_id,
        "sender": sender,
        "origin_server_ts": 1,
        "content": {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AwgAEnAC",
            "device_id": "PHONE",
            "sender_key": "c2VuZGVya2V5",
            "session_id": f"session-{event_id}",
        },
    }
    event = MegolmEvent.from_dict(source)
    assert isinstance(event, MegolmEvent)
    return event


class Keys:
    """Decrypts the events whose session key has "arrived"."""

    def __init__(self) -> None:
        self.arrived: set[str] = set()

    def __call__(self, room_id: str, event: MegolmEvent) -> Decrypted:
        if event.session_id not in self.arrived:
            raise EncryptionError("no session")
        return Decrypted({"type": "m.room.message", "event_id": event.event_id, "content": {"body": "!list"}})


def test_a_key_that_arrives_within_ten_minutes_releases_the_message(caplog: pytest.LogCaptureFixture) -> None:
    keys, clock = Keys(), Clock()
    waiting = Undecryptable(keys, clock)
    waiting.add("!room:x", megolm("$1"))
    assert "!room:x" in caplog.text and "@alice:x" in caplog.text and "PHONE" in caplog.text
    assert "session-$1" in caplog.text

    assert waiting.retry().decrypted == []
    clock.now += KEY_WAIT_S - 1
    keys.arrived.add("session-$1")
    assert waiting.retry(keys_arrived=False).decrypted == []  # that sync brought no room key: no attempt
    outcome = waiting.retry(keys_arrived=True)
    assert [(room, source["event_id"]) for room, source in outcome.decrypted] == [("!room:x", "$1")]
    assert outcome.ask_to_resend == [] and len(waiting) == 0


def test_a_key_that_never_comes_earns_one_notice_per_sender_per_hour() -> None:
    clock = Clock()
    waiting = Undecryptable(Keys(), clock)
    waiting.add("!room:x", megolm("$1"))
    waiting.add("!room:x", megolm("$2"))
    waiting.add("!room:x", megolm("$3", sender="@bob:x"))
    clock.now += KEY_WAIT_S
    assert waiting.retry().ask_to_resend == [("!room:x", "@alice:x"), ("!room:x", "@bob:x")]

    waiting.add("!other:x", megolm("$4"))
    clock.now += KEY_WAIT_S
    assert waiting.retry().ask_to_resend == []  # alice was asked less than an hour ago
    waiting.add("!other:x", megolm("$5"))
    clock.now += NOTICE_EVERY_S
    assert waiting.retry().ask_to_resend == [("!other:x", "@alice:x")]
    assert len(waiting) == 0


def test_the_same_event_twice_waits_once() -> None:
    waiting = Undecryptable(Keys(), Clock())
    waiting.add("!room:x", megolm("$1"))
    waiting.add("!room:x", megolm("$1"))
    assert len(waiting) == 1


def test_a_second_process_on_the_same_store_is_refused(tmp_path: Path) -> None:
    first, second = StoreLock(tmp_path / "store"), StoreLock(tmp_path / "store")
    first.acquire()
    try:
        with pytest.raises(StoreLocked, match=r"in use by pid \d+: only one newsalert may run on it"):
            second.acquire()
    finally:
        first.release()
    second.acquire()  # free again once the first one stopped
    second.release()


async def test_a_generated_pickle_key_is_kept_and_a_configured_one_wins() -> None:
    host = RecordingHost()
    generated = await pickle_key(None, host)
    assert len(generated) >= 32
    assert await pickle_key(None, host) == generated
    assert await pickle_key("configured", host) == "configured"


def test_a_store_that_does_not_open_with_the_pickle_key_stops_with_one_line(tmp_path: Path) -> None:
    def client(key: str) -> AsyncClient:
        config = AsyncClientConfig(encryption_enabled=True, store=SqliteStore, pickle_key=key)
        nio_client = AsyncClient("http://127.0.0.1:9", "@bot:x", store_path=str(tmp_path), config=config)
        nio_client.user_id, nio_client.device_id = "@bot:x", "BOTDEVICE"
        return nio_client

    with unreadable_store_is_fatal(tmp_path):
        client("the first key").load_store()  # creates the store and its account
    refusal = pytest.raises(MatrixLoginError, match="cannot be opened with the configured")
    with refusal as refused, unreadable_store_is_fatal(tmp_path):
        client("another key").load_store()
    assert "\n" not in str(refused.value)
