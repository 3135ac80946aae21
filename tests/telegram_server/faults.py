"""Fault injection and flood control of the test server: injected errors, open flood windows, the sliding
one-second send limit, and the record of every send attempt that "waits as told" is checked against."""

from __future__ import annotations

import math
from collections import deque

from tests.telegram_server.models import Fault, FloodWindow, PendingFault, SendAttempt, TgChat
from tests.telegram_server.protocol import ApiError, Params, chat_id_or_none
from tests.telegram_server.world import World, chat_id_of

# Sends arriving this close to the end of a flood window still count as waiting (clock granularity).
FLOOD_TOLERANCE = 0.01


class SendGate:
    """Decides, before a send is performed, whether it gets an error instead; records every attempt."""

    def __init__(self, world: World, send_rate_limit: float | None) -> None:
        """``send_rate_limit``: sends per second over a sliding one-second window; more get a 429."""
        self._world = world
        self.send_rate_limit = send_rate_limit
        self._faults: deque[PendingFault] = deque()
        self._recent_sends: deque[float] = deque()
        self.attempts: list[SendAttempt] = []
        self.flood_windows: list[FloodWindow] = []

    def inject(self, fault: Fault, *, count: int = 1, chat: TgChat | int | None = None) -> None:
        """The next ``count`` sends (to ``chat``, or to any chat) get ``fault`` instead of being performed."""
        target = fault.parameters.get("migrate_to_chat_id")
        if target is not None and target not in self._world.chats:
            self._world.chats[target] = TgChat(target, "supergroup", title="migrated")
        self._faults.append(PendingFault(fault, count, None if chat is None else chat_id_of(chat)))

    def early_sends(self) -> list[SendAttempt]:
        """Sends to a chat that arrived while that chat's flood window was still open."""
        early = []
        for attempt in self.attempts:
            for window in self.flood_windows:
                if (
                    window.chat_id in (None, attempt.chat_id)
                    and window.issued_at < attempt.arrived_at < window.ends_at - FLOOD_TOLERANCE
                ):
                    early.append(attempt)
                    break
        return early

    def admit(self, params: Params, now: float) -> None:
        """Raise the :class:`ApiError` this send gets instead of being performed, if any."""
        chat_id = chat_id_or_none(params)
        open_window = self._open_flood_window(chat_id, now)
        if open_window is not None:
            remaining = max(1, math.ceil(open_window.ends_at - now))
            raise ApiError.from_fault(Fault.flood(remaining))
        fault = self._take_fault(chat_id)
        if fault is not None:
            if fault.retry_after is not None:
                self.flood_windows.append(FloodWindow(chat_id, now, fault.retry_after))
            raise ApiError.from_fault(fault)
        if chat_id in self._world.migrated:
            raise ApiError.from_fault(Fault.migrated(self._world.migrated[chat_id]))
        if chat_id in self._world.gone_chats:
            raise ApiError(403, self._world.gone_chats[chat_id])
        self._enforce_rate(chat_id, now)

    def record(self, name: str, params: Params, arrived_at: float, status: int) -> None:
        paid = params.flag("allow_paid_broadcast")
        self.attempts.append(SendAttempt(name, chat_id_or_none(params), arrived_at, status, paid))

    def _open_flood_window(self, chat_id: int | None, now: float) -> FloodWindow | None:
        for window in reversed(self.flood_windows):
            if window.chat_id == chat_id and window.issued_at <= now < window.ends_at - FLOOD_TOLERANCE:
                return window
        return None

    def _take_fault(self, chat_id: int | None) -> Fault | None:
        for pending in self._faults:
            if pending.chat_id is None or pending.chat_id == chat_id:
                pending.remaining -= 1
                if pending.remaining <= 0:
                    self._faults.remove(pending)
                return pending.fault
        return None

    def _enforce_rate(self, chat_id: int | None, now: float) -> None:
        if self.send_rate_limit is None:
            return
        while self._recent_sends and self._recent_sends[0] <= now - 1.0:
            self._recent_sends.popleft()
        if len(self._recent_sends) >= self.send_rate_limit:
            retry_after = max(1, math.ceil(self._recent_sends[0] + 1.0 - now))
            self.flood_windows.append(FloodWindow(chat_id, now, retry_after))
            raise ApiError.from_fault(Fault.flood(retry_after))
        self._recent_sends.append(now)
