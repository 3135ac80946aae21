"""What services need from the scheduler, as a protocol: services never import ``bot.scheduler``.

The scheduler implements it; the chat services take it at construction, so nothing is patched in later and
there is no import cycle between the scheduler and the services.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.core.models import Chat


class DigestPlanner(Protocol):
    async def plan_chat(self, chat: Chat) -> datetime | None:
        """(Re)plan one chat's next digest; its UTC time, or None when the chat gets no digest."""
        ...

    async def plan_all(self) -> None:
        """Rebuild every chat's digest plan from the database (sending overdue digests)."""
        ...

    def planned(self, chat_id: int) -> datetime | None:
        """When the chat's next digest is planned, if it is."""
        ...


class JobScheduler(DigestPlanner, Protocol):
    """The whole scheduler as the application starts and stops it (after transports, before shutdown)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
