"""Messages the bot cannot decrypt yet: never silent, retried while their key may still arrive.

A room key can arrive after the message it unlocks (a slow to-device delivery, a key forwarded later), so
each undecryptable event is logged with room, sender, device and session id and kept for ``KEY_WAIT_S``;
after every sync the bot tries again. What decrypts in time is handled as if it had just arrived. What does
not earns its sender one notice asking to resend — at most one per sender per ``NOTICE_EVERY_S``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nio import MegolmEvent
from nio.exceptions import EncryptionError

log = logging.getLogger(__name__)

KEY_WAIT_S = 600.0
NOTICE_EVERY_S = 3600.0
MAX_PENDING = 500  # a flood of garbage must not grow memory without bound


@dataclass(slots=True)
class _Pending:
    room_id: str
    event: MegolmEvent
    seen_at: float


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one retry round found: events to handle now, and (room, sender) pairs to tell to resend."""

    decrypted: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    ask_to_resend: list[tuple[str, str]] = field(default_factory=list)


Decrypt = Callable[[str, MegolmEvent], Any]  # (room id, event) → decrypted nio event; raises EncryptionError


class Undecryptable:
    def __init__(self, decrypt: Decrypt, clock: Callable[[], float] = time.monotonic) -> None:
        self._decrypt = decrypt
        self._clock = clock
        self._pending: dict[str, _Pending] = {}  # event id → waiting event
        self._notified: dict[str, float] = {}  # sender → when they were last asked to resend

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, room_id: str, event: MegolmEvent) -> None:
        log.warning(
            "matrix: cannot decrypt event %s in %s from %s (device %s, session %s); waiting for its key",
            event.event_id,
            room_id,
            event.sender,
            event.device_id,
            event.session_id,
        )
        if event.event_id in self._pending:
            return
        if len(self._pending) >= MAX_PENDING:
            oldest = min(self._pending, key=lambda key: self._pending[key].seen_at)
            self._give_up(self._pending.pop(oldest), [])
        self._pending[event.event_id] = _Pending(room_id, event, self._clock())

    def retry(self, keys_arrived: bool = True) -> Outcome:
        """Call after each sync: if it brought room keys, try every waiting event again (a failed attempt
        costs nio a warning line, so not after every sync); give up on those that waited too long."""
        outcome = Outcome()
        now = self._clock()
        for event_id, pending in list(self._pending.items()):
            source = self._try(pending) if keys_arrived else None
            if source is not None:
                del self._pending[event_id]
                log.info("matrix: event %s in %s decrypted after its key arrived", event_id, pending.room_id)
                outcome.decrypted.append((pending.room_id, source))
            elif now - pending.seen_at >= KEY_WAIT_S:
                del self._pending[event_id]
                self._give_up(pending, outcome.ask_to_resend)
        return outcome

    def _try(self, pending: _Pending) -> dict[str, Any] | None:
        try:
            decrypted = self._decrypt(pending.room_id, pending.event)
        except EncryptionError:
            return None
        source = getattr(decrypted, "source", None)
        return source if isinstance(source, dict) else None

    def _give_up(self, pending: _Pending, ask: list[tuple[str, str]]) -> None:
        sender = pending.event.sender
        log.warning(
            "matrix: gave up on event %s in %s from %s: its key (session %s) never arrived",
            pending.event.event_id,
            pending.room_id,
            sender,
            pending.event.session_id,
        )
        last = self._notified.get(sender)
        now = self._clock()
        if last is not None and now - last < NOTICE_EVERY_S:
            return
        self._notified[sender] = now
        ask.append((pending.room_id, sender))
