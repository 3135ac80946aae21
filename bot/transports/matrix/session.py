"""Logging in, and staying the same device across restarts.

The access token, the device id and the user they belong to are kept in the application's durable state,
so a restart resumes the old session instead of logging in again (which would create a new device, and in
encrypted rooms a new identity readers must trust again). With encryption on, the device's crypto store
must still be there: if it is gone, the device's keys are lost for good and reusing its id with new keys
would make every reader's client reject it, so the bot logs in as a new device (password) or stops with
one line telling the admin what to do (access token only). The bot never logs out on shutdown.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import vodozemac
from aiohttp import ClientError
from nio import AsyncClient, ErrorResponse, LoginResponse, WhoamiResponse

from bot.transports.base import TransportHost, TransportStartError
from bot.transports.matrix.encryption import store_file
from bot.transports.matrix.rooms import post_json
from config.settings import MatrixSettings

log = logging.getLogger(__name__)

STATE_USER_ID = "matrix.user_id"
STATE_DEVICE_ID = "matrix.device_id"
STATE_ACCESS_TOKEN = "matrix.access_token"
STATE_NEXT_BATCH = "matrix.next_batch"


class MatrixLoginError(TransportStartError):
    """The homeserver rejected the configured credentials (or they cannot be used); retrying will not help."""


@contextlib.contextmanager
def unreadable_store_is_fatal(store_dir: Path | None) -> Iterator[None]:
    """A store that does not open with this pickle key (the key changed, or the file is damaged) is an
    admin's problem to fix, not a reason to start with new keys."""
    try:
        yield
    except (vodozemac.PickleException, vodozemac.LibolmPickleException) as exc:
        raise MatrixLoginError(
            f"the Matrix crypto store in {store_dir} cannot be opened with the configured "
            f"NEWSALERT_MATRIX__PICKLE_KEY (or the generated one): {exc}"
        ) from None


class Session:
    """Logs the client in; ``store_dir`` is None when encryption is off."""

    def __init__(
        self, client: AsyncClient, settings: MatrixSettings, host: TransportHost, store_dir: Path | None
    ) -> None:
        if not settings.user_id:
            raise ValueError("Matrix needs a user id")
        self._client = client
        self._settings = settings
        self._host = host
        self._store_dir = store_dir
        self.user_id = settings.user_id
        self.logged_in = False
        self._lost_store = False
        self._token_rejected = False

    async def stored(self, key: str) -> str | None:
        return (await self._host.get_state(key)) or None

    async def login(self) -> None:
        # State written by another account (the configured user changed) must not be reused.
        same_user = await self.stored(STATE_USER_ID) == self.user_id
        stored_device = await self.stored(STATE_DEVICE_ID) if same_user else None
        configured = self._settings.access_token.get_secret_value() if self._settings.access_token else None
        stored_token = await self.stored(STATE_ACCESS_TOKEN) if same_user else None
        for token in (configured, stored_token if not configured else None):
            if token and await self._adopt_token(token, stored_device, configured=token == configured):
                await self._remember()
                return
        if configured and not self._lost_store:
            raise MatrixLoginError(f"the homeserver rejected the access token configured for {self.user_id}")
        await self._password_login(stored_device if self._may_reuse(stored_device) else None)
        await self._remember()

    def _may_reuse(self, device_id: str | None) -> bool:
        """Reusing the stored device keeps the bot from piling up devices on its account; with encryption
        only while its keys are here, and not after its token was revoked (which deletes the device and its
        published keys, and nio would not upload them again)."""
        if self._store_dir is None:
            return True
        return self._has_store(device_id) and not self._token_rejected

    def _has_store(self, device_id: str | None) -> bool:
        if self._store_dir is None:
            return True  # no encryption: any device id may be reused
        return bool(device_id) and store_file(self._store_dir, self.user_id, device_id or "").is_file()

    async def _adopt_token(self, token: str, stored_device: str | None, *, configured: bool) -> bool:
        client = self._client
        client.user_id, client.access_token = self.user_id, token
        answer = await client.whoami()
        if isinstance(answer, ErrorResponse) and answer.status_code in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
            client.access_token = ""
            self._token_rejected = True
            return False
        if not isinstance(answer, WhoamiResponse):
            raise ClientError(f"whoami failed: {answer}")
        if answer.user_id != self.user_id:
            raise MatrixLoginError(f"the access token belongs to {answer.user_id}, not {self.user_id}")
        device_id = answer.device_id or stored_device or ""
        if not self._has_store(device_id) and await self._device_has_keys(device_id):
            return self._store_lost(device_id, configured=configured)
        client.device_id = device_id
        self._open_store()
        self.logged_in = True
        return True

    def _store_lost(self, device_id: str, *, configured: bool) -> bool:
        """The token's device published keys that no store here holds any more."""
        self._client.access_token = ""
        if self._settings.password is not None:
            self._lost_store = True
            log.warning(
                "matrix: the crypto store of device %s is missing from %s; logging in as a new device",
                device_id,
                self._store_dir,
            )
            return False
        where = "NEWSALERT_MATRIX__ACCESS_TOKEN" if configured else "the stored login"
        raise MatrixLoginError(
            f"the Matrix crypto store of device {device_id} is missing from {self._store_dir}: restore it from a "
            f"backup, or set NEWSALERT_MATRIX__PASSWORD (or a new token instead of {where}) so the bot can "
            "start as a new device"
        )

    async def _device_has_keys(self, device_id: str) -> bool:
        """Whether the homeserver already holds identity keys for this device (it was used before)."""
        if not device_id:
            return False
        answer = await post_json(self._client, "/_matrix/client/v3/keys/query", {"device_keys": {self.user_id: []}})
        if answer is None:
            raise ClientError("the homeserver did not answer the keys query")
        devices = (answer.get("device_keys") or {}).get(self.user_id) or {}
        return device_id in devices

    def _open_store(self) -> None:
        """Load (or create) the device's crypto store; nio needs the device id first."""
        if self._store_dir is not None:
            with unreadable_store_is_fatal(self._store_dir):
                self._client.load_store()

    async def _password_login(self, device_id: str | None) -> None:
        if self._settings.password is None:
            raise MatrixLoginError(f"no password configured for {self.user_id} and no usable access token")
        client = self._client
        if device_id is None:
            self._drop_store()
        client.device_id = device_id or ""
        client.user = self.user_id
        password = self._settings.password.get_secret_value()
        with unreadable_store_is_fatal(self._store_dir):
            answer = await client.login(password, self._settings.device_name)  # nio opens the store on success
        if isinstance(answer, LoginResponse):
            self.logged_in = True
            log.info("matrix: logged in as %s (device %s)", answer.user_id, answer.device_id)
            return
        if isinstance(answer, ErrorResponse) and answer.status_code in ("M_FORBIDDEN", "M_USER_DEACTIVATED"):
            raise MatrixLoginError(f"login as {self.user_id} failed: {answer.message}")
        raise ClientError(f"login failed: {answer}")

    def _drop_store(self) -> None:
        """A token revoked while running: the old device's store must not be carried over to the new one."""
        client = self._client
        if client.store is not None:
            client.store.database.close()
        client.store, client.olm = None, None
        client.encrypted_rooms = set()

    async def _remember(self) -> None:
        await self._host.set_state(STATE_USER_ID, self.user_id)
        await self._host.set_state(STATE_DEVICE_ID, self._client.device_id or "")
        await self._host.set_state(STATE_ACCESS_TOKEN, self._client.access_token)
