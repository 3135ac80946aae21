"""Cross-signing the bot's own device, so clients that withhold room keys from devices their owner has
not cross-signed (MSC4153) still treat the bot as a proper device.

nio has no cross-signing, so this does the three steps itself with the libraries Synapse uses
(``signedjson`` over PyNaCl Ed25519 and ``canonicaljson``): create a master and a self-signing key, upload
them (user-interactive auth with the account's password), and upload the device's keys signed by the
self-signing key. The private keys are kept in the bot's state, so a later new device (after a lost store)
is signed by the same identity. An identity the bot does not hold is never overwritten: the bot then logs
that its device stays unsigned.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import ClientError
from nacl.signing import SigningKey
from nio import AsyncClient
from signedjson.key import (
    decode_signing_key_base64,
    encode_signing_key_base64,
    encode_verify_key_base64,
    generate_signing_key,
)
from signedjson.sign import sign_json

from bot.transports.base import TransportHost
from config.settings import MatrixSettings

log = logging.getLogger(__name__)

STATE_MASTER_KEY = "matrix.cross_signing.master"  # base64 Ed25519 seed (secret state)
STATE_SELF_SIGNING_KEY = "matrix.cross_signing.self_signing"

_QUERY = "/_matrix/client/v3/keys/query"
_UPLOAD_KEYS = "/_matrix/client/v3/keys/device_signing/upload"
_UPLOAD_SIGNATURES = "/_matrix/client/v3/keys/signatures/upload"


class CrossSigningError(Exception):
    """The homeserver refused a cross-signing step."""


def new_key() -> SigningKey:
    """An Ed25519 key whose key id is its own public key, as cross-signing keys are named."""
    key = generate_signing_key("new")
    key.version = encode_verify_key_base64(key.verify_key)
    return key


def public_key(key: SigningKey) -> str:
    return encode_verify_key_base64(key.verify_key)


def key_object(user_id: str, usage: str, key: SigningKey) -> dict[str, Any]:
    pub = public_key(key)
    return {"user_id": user_id, "usage": [usage], "keys": {f"ed25519:{pub}": pub}}


def identity_objects(user_id: str, master: SigningKey, self_signing: SigningKey) -> dict[str, Any]:
    """The upload body: the master key, and the self-signing key signed by the master key."""
    ssk = sign_json(key_object(user_id, "self_signing", self_signing), user_id, master)
    return {"master_key": key_object(user_id, "master", master), "self_signing_key": ssk}


def signed_device(device_keys: dict[str, Any], user_id: str, self_signing: SigningKey) -> dict[str, Any]:
    """The device's published keys with the self-signing key's signature added (``unsigned`` dropped);
    the homeserver keeps the signatures it already had and adds the new one."""
    device = json.loads(json.dumps({k: v for k, v in device_keys.items() if k != "unsigned"}))  # deep copy
    return sign_json(device, user_id, self_signing)


def _only_key(key_object_: dict[str, Any] | None) -> str | None:
    keys = (key_object_ or {}).get("keys") or {}
    values = [value for value in keys.values() if isinstance(value, str)]
    return values[0] if len(values) == 1 else None


class CrossSigning:
    def __init__(self, client: AsyncClient, settings: MatrixSettings, host: TransportHost) -> None:
        self._client = client
        self._settings = settings
        self._host = host

    async def ensure(self) -> None:
        """Make sure the bot's device is signed by its own identity; never raises (a failure only leaves
        the device unsigned, which costs trust in some clients, not function)."""
        if self._client.olm is None:
            return
        try:
            await self._ensure()
        except (CrossSigningError, ClientError, OSError, TimeoutError, ValueError, KeyError) as exc:
            log.warning("matrix: cross-signing the bot's device failed (%s); it stays unsigned", exc)

    async def _ensure(self) -> None:
        user_id, device_id = self._client.user_id, self._client.device_id
        status, answer = await self._post(_QUERY, {"device_keys": {user_id: []}})
        if status != 200:
            raise CrossSigningError(f"keys query answered HTTP {status}")
        device = ((answer.get("device_keys") or {}).get(user_id) or {}).get(device_id)
        if device is None:
            raise CrossSigningError(f"the homeserver has no keys for device {device_id} yet")
        server_master = _only_key((answer.get("master_keys") or {}).get(user_id))
        server_ssk = _only_key((answer.get("self_signing_keys") or {}).get(user_id))
        master, ssk = await self._load(STATE_MASTER_KEY), await self._load(STATE_SELF_SIGNING_KEY)
        if server_master is None:
            if self._settings.password is None:
                log.info("matrix: no password configured, so no cross-signing identity; device stays unsigned")
                return
            master, ssk = await self._create_identity(user_id)
        elif master is None or ssk is None or public_key(master) != server_master or public_key(ssk) != server_ssk:
            log.info(
                "matrix: %s already has a cross-signing identity the bot does not hold; device %s stays unsigned",
                user_id,
                device_id,
            )
            return
        if f"ed25519:{ssk.version}" in ((device.get("signatures") or {}).get(user_id) or {}):
            return  # signed on an earlier start
        await self._sign_device(user_id, device_id, device, ssk)
        log.info("matrix: device %s is now signed by the bot's self-signing key", device_id)

    async def _create_identity(self, user_id: str) -> tuple[SigningKey, SigningKey]:
        master, ssk = new_key(), new_key()
        # Kept before the upload: if the process dies right after it, the identity is still ours.
        await self._host.set_state(STATE_MASTER_KEY, encode_signing_key_base64(master))
        await self._host.set_state(STATE_SELF_SIGNING_KEY, encode_signing_key_base64(ssk))
        body = identity_objects(user_id, master, ssk)
        status, answer = await self._post(_UPLOAD_KEYS, body)
        if status == 401 and "flows" in answer:
            status, answer = await self._post(_UPLOAD_KEYS, {**body, "auth": self._password_auth(answer)})
        if status != 200:
            raise CrossSigningError(f"upload of the cross-signing keys answered HTTP {status}: {answer}")
        log.info("matrix: created a cross-signing identity for %s (master key %s)", user_id, public_key(master))
        return master, ssk

    def _password_auth(self, challenge: dict[str, Any]) -> dict[str, Any]:
        password = self._settings.password
        if password is None:
            raise CrossSigningError("the homeserver asks for the password, and none is configured")
        return {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": self._client.user_id},
            "password": password.get_secret_value(),
            "session": challenge.get("session"),
        }

    async def _sign_device(self, user_id: str, device_id: str, device: dict[str, Any], ssk: SigningKey) -> None:
        body = {user_id: {device_id: signed_device(device, user_id, ssk)}}
        status, answer = await self._post(_UPLOAD_SIGNATURES, body)
        if status != 200 or answer.get("failures"):
            raise CrossSigningError(f"upload of the device signature failed: HTTP {status} {answer}")

    async def _load(self, key: str) -> SigningKey | None:
        stored = await self._host.get_state(key)
        if not stored:
            return None
        signing_key = decode_signing_key_base64("ed25519", "stored", stored)
        signing_key.version = public_key(signing_key)
        return signing_key

    async def _post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST that also returns error bodies: user-interactive auth answers 401 with its challenge."""
        headers = {"Authorization": f"Bearer {self._client.access_token}", "Content-Type": "application/json"}
        response = await self._client.send("POST", path, json.dumps(body), headers=headers)
        try:
            answer = await response.json(content_type=None)
        finally:
            response.release()
        return response.status, answer if isinstance(answer, dict) else {}
