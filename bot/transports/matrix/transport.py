"""The Matrix transport: matrix-nio's ``AsyncClient`` against any homeserver, encrypted rooms included.

Receiving is a hand-written sync loop rather than ``sync_forever`` because the loop owns its promises: the
sync token is stored only after a batch was handled (a restart resumes where it stopped and never replays
old commands), the very first sync of a fresh account is read but not executed, network trouble or a
restarting homeserver is met with backoff instead of an exception, and after every sync the encryption
upkeep runs (keys uploaded, queried, claimed; late room keys retried against waiting messages).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from aiohttp import ClientError
from nio import AsyncClient, AsyncClientConfig, ErrorResponse, RoomKeyEvent, SyncResponse

from bot.core.models import ChatKey
from bot.transports.base import TransportHost
from bot.transports.matrix.crosssigning import CrossSigning
from bot.transports.matrix.encryption import KeyUpkeep, StoreClass, StoreLock, pickle_key
from bot.transports.matrix.formatting import PLATFORM
from bot.transports.matrix.receiving import Receiver
from bot.transports.matrix.rooms import Invites
from bot.transports.matrix.sending import MatrixMessenger
from bot.transports.matrix.session import STATE_NEXT_BATCH, STATE_USER_ID, MatrixLoginError, Session
from config.settings import MatrixSettings

log = logging.getLogger(__name__)

_REQUEST_SLACK_S = 30.0  # on top of the long-poll timeout before a sync request counts as hung


@dataclasses.dataclass(frozen=True, slots=True)
class _Backoff:
    """How long the sync loop waits after a failure: doubling up to a ceiling, jittered so that several
    instances do not retry in step."""

    initial_s: float
    max_s: float

    def after(self, delay: float) -> float:
        return min(self.max_s, delay * 2) * random.uniform(0.9, 1.1)


class MatrixTransport:
    """Receives ``!commands`` from rooms and DMs and answers them; see the module docstring.

    ``store_dir`` is the crypto store folder when ``settings.store_dir`` is not set (the application passes
    the folder beside the database).
    """

    def __init__(
        self,
        settings: MatrixSettings,
        host: TransportHost,
        *,
        store_dir: Path | None = None,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
    ) -> None:
        if not settings.enabled or not settings.homeserver or not settings.user_id:
            raise ValueError("Matrix needs a homeserver, a user id and a password or access token")
        self._settings = settings
        self._host = host
        self._backoff = _Backoff(backoff_initial_s, backoff_max_s)
        self._user_id = settings.user_id
        self._store_dir = (settings.store_dir or store_dir) if settings.encryption else None
        if settings.encryption and self._store_dir is None:
            raise ValueError("Matrix encryption needs a folder for its crypto store")
        self._client = AsyncClient(
            settings.homeserver.rstrip("/"),
            settings.user_id,
            store_path=str(self._store_dir) if self._store_dir else "",
            config=AsyncClientConfig(
                # nio would otherwise retry forever inside a single call; we want the error to decide.
                max_limit_exceeded=0,
                max_timeouts=0,
                request_timeout=60,
                encryption_enabled=settings.encryption,
                store=StoreClass,
                store_sync_tokens=False,  # the token lives in the application's state, stored after handling
            ),
        )
        self._stopping = asyncio.Event()
        self._first_sync = asyncio.Event()
        self.messenger = MatrixMessenger(self._client)
        self._session = Session(self._client, settings, host, self._store_dir)
        self._lock = StoreLock(self._store_dir) if self._store_dir else None
        self._invites = Invites(self._client, settings, self._user_id)
        self._receiver = Receiver(self._client, settings, host, self.messenger, self._stopping)
        self._upkeep = KeyUpkeep(self._client)
        self._cross_signing = CrossSigning(self._client, settings, host)
        self._next_batch: str | None = None
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, do the first sync, then keep syncing in the background.

        Wrong credentials raise :class:`MatrixLoginError`, a store in use by another process
        :class:`StoreLocked`; an unreachable homeserver does not stop the start: the background loop keeps
        trying with backoff.
        """
        if self._lock is not None:
            await asyncio.to_thread(self._lock.acquire)
        try:
            await self._start_locked()
        except BaseException:
            self._release()  # a refused start must not keep the store locked for the rest of the process
            raise

    async def _start_locked(self) -> None:
        if self._store_dir is not None:
            key = await pickle_key(self._secret_pickle_key(), self._host)
            self._client.config = dataclasses.replace(self._client.config, pickle_key=key)  # config is frozen
        try:
            await self._login()
        except (ClientError, OSError, TimeoutError) as exc:
            log.warning("matrix: %s unreachable (%r); will keep trying", self._settings.homeserver, exc)
        self._task = asyncio.create_task(self._run(), name="matrix-sync")
        if self._session.logged_in:
            first_sync = asyncio.ensure_future(self._first_sync.wait())
            await asyncio.wait({first_sync, self._task}, return_when=asyncio.FIRST_COMPLETED)
            first_sync.cancel()
            if self._task.done():
                self._task.result()  # surfaces the error that ended the loop

    async def stop(self) -> None:
        """Finish the batch being handled (so its sync token is stored), then close the connection.

        Never logs out: the device, its keys and its access token stay valid for the next start."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=60)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            except Exception:
                log.exception("matrix: sync loop ended with an error")
        self.messenger.close()
        await self._client.close()
        if self._client.store is not None:
            self._client.store.database.close()
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()

    def _secret_pickle_key(self) -> str | None:
        key = self._settings.pickle_key
        return key.get_secret_value() if key is not None else None

    @property
    def synced(self) -> bool:
        """True once the first sync of this run is done (commands sent from now on will be answered)."""
        return self._first_sync.is_set()

    @property
    def device_id(self) -> str:
        return self._client.device_id or ""

    @property
    def waiting_for_keys(self) -> int:
        """How many received messages are waiting for their room key."""
        return len(self._receiver.undecryptable)

    # -- login -----------------------------------------------------------------------------------------------

    async def _login(self) -> None:
        same_user = await self._session.stored(STATE_USER_ID) == self._user_id
        self._next_batch = await self._session.stored(STATE_NEXT_BATCH) if same_user else None
        await self._session.login()

    # -- the sync loop ---------------------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = self._backoff.initial_s
        while not self._stopping.is_set():
            try:
                if not self._session.logged_in:
                    await self._login()
                await self._sync_once()
                backoff = self._backoff.initial_s
                continue
            except MatrixLoginError:
                log.exception("matrix: login refused; Matrix stays offline until the settings are fixed")
                raise
            except _Stopping:
                return
            except (ClientError, OSError, TimeoutError, _SyncFailed) as exc:
                log.warning("matrix: sync failed (%s); retrying in %.1fs", exc, backoff)
            except Exception:
                log.exception("matrix: unexpected error in the sync loop; retrying in %.1fs", backoff)
            await self._pause(backoff)
            backoff = self._backoff.after(backoff)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _sync_once(self) -> None:
        first_of_run = not self._first_sync.is_set()
        fresh_account = self._next_batch is None
        timeout_ms = 0 if first_of_run else self._settings.sync_timeout_ms
        # The first sync of each run asks for the full room state: nio keeps room members and encryption
        # state in memory only, and after a restart would otherwise know nothing about quiet rooms.
        request = self._client.sync(
            timeout=timeout_ms,
            since=self._next_batch,
            full_state=first_of_run,
            sync_filter=_initial_filter() if fresh_account else _SYNC_FILTER,
        )
        response = await self._until_stopped(request, timeout_ms / 1000 + _REQUEST_SLACK_S)
        if isinstance(response, ErrorResponse):
            if response.status_code in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
                self._session.logged_in = False  # token revoked: log in again (password) or give up (token)
            raise _SyncFailed(str(response))
        if not isinstance(response, SyncResponse):
            raise _SyncFailed(f"unexpected sync answer {response!r}")
        # Keys first: the room keys that came with this batch must reach readers before replies go out.
        await self._upkeep.after_sync()
        # On a brand-new account the first batch is history: join pending invites, execute nothing.
        await self._handle_sync(response, execute=not fresh_account)
        keys_arrived = any(isinstance(event, RoomKeyEvent) for event in response.to_device_events)
        await self._receiver.retry_undecryptable(keys_arrived)
        self._next_batch = response.next_batch
        await self._host.set_state(STATE_NEXT_BATCH, response.next_batch)
        if first_of_run:
            await self._cross_signing.ensure()
        self._first_sync.set()

    async def _until_stopped(self, request: Awaitable[Any], limit_s: float) -> Any:
        """Await a request unless :meth:`stop` is called first (a long poll must not delay shutdown)."""
        request_task = asyncio.ensure_future(request)
        stop_task = asyncio.ensure_future(self._stopping.wait())
        try:
            done, _ = await asyncio.wait(
                {request_task, stop_task}, timeout=limit_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stop_task.cancel()
        if request_task in done:
            return request_task.result()
        request_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await request_task
        if self._stopping.is_set():
            raise _Stopping
        raise TimeoutError(f"sync request gave no answer within {limit_s:.0f}s")

    async def _handle_sync(self, response: SyncResponse, *, execute: bool) -> None:
        for room_id, invite in response.rooms.invite.items():
            await self._invites.on_invite(room_id, invite.invite_state)
        for room_id in response.rooms.leave:
            if room_id in self._invites.declined:
                self._invites.declined.discard(room_id)
                continue
            log.info("matrix: no longer in %s", room_id)
            await self._host.chat_gone(ChatKey(PLATFORM, room_id))
        if not execute:
            return
        for room_id, room_info in response.rooms.join.items():
            if room_info.timeline.limited:
                # a long outage: the homeserver only sent the newest events; older commands are lost
                log.warning("matrix: %s had more new events than one sync returns; older ones skipped", room_id)
            await self._receiver.on_room_events(room_id, room_info.timeline.events)


class _SyncFailed(Exception):
    """The homeserver answered the sync with an error."""


class _Stopping(Exception):
    """:meth:`MatrixTransport.stop` interrupted a request."""


# Presence and typing notifications are noise for a bot; leaving them out keeps every sync small.
_SYNC_FILTER: dict[str, Any] = {
    "presence": {"types": []},
    "account_data": {"types": []},
    "room": {"ephemeral": {"types": []}, "account_data": {"types": []}},
}


def _initial_filter() -> dict[str, Any]:
    """The first sync of a fresh account needs room state, not the history it will not execute."""
    return {**_SYNC_FILTER, "room": {**_SYNC_FILTER["room"], "timeline": {"limit": 1}}}
