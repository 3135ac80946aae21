"""Webhook mode of the test server: ``setWebhook`` / ``deleteWebhook`` / ``getWebhookInfo``, and pushing each
update to the registered URL with the ``X-Telegram-Bot-Api-Secret-Token`` header, as Telegram does.

While a webhook is set, ``getUpdates`` answers 409 (Telegram's rule), and every update is POSTed as JSON to
the URL until the receiver answers 2xx; a refused or failed push is retried after ``retry_seconds``. Each
push is recorded (:attr:`WebhookPusher.pushes`) so tests can check what the bot accepted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.telegram_server.protocol import ApiError, Params
from tests.telegram_server.world import World

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
Method = Callable[[Params], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Push:
    update_id: int
    url: str
    status: int  # HTTP status the receiver answered; 0 when the connection failed


class WebhookPusher:
    def __init__(self, world: World, table: dict[str, Method], *, retry_seconds: float = 0.2) -> None:
        self._world = world
        self._retry = retry_seconds
        self.url: str | None = None
        self.secret: str | None = None
        self.pushes: list[Push] = []
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        polling = table["getupdates"]
        deleting = table["deletewebhook"]

        async def get_updates(params: Params) -> Any:
            if self.url is not None:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook")
            return await polling(params)

        async def delete_webhook(params: Params) -> Any:
            self.url = self.secret = None
            return await deleting(params)

        table.update(
            getupdates=get_updates,
            deletewebhook=delete_webhook,
            setwebhook=self._set_webhook,
            getwebhookinfo=self._get_webhook_info,
        )

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._task = asyncio.create_task(self._push_forever(), name="test-server-webhook")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    async def _set_webhook(self, params: Params) -> bool:
        url = params.text("url") or ""
        if not url:
            self.url = self.secret = None
            return True
        if not url.startswith(("http://", "https://")):
            raise ApiError.bad_request("bad webhook: an HTTPS URL must be provided for webhook")
        self.url, self.secret = url, params.text("secret_token")
        if params.flag("drop_pending_updates"):
            self._world.updates.clear()
        self._world.notify()
        return True

    async def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        return {
            "url": self.url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._world.updates),
        }

    async def _push_forever(self) -> None:
        while True:
            changed = self._world.changed
            url, pending = self.url, list(self._world.updates)
            if url is None or not pending:
                await changed.wait()
                continue
            for update in pending:
                if not await self._push(url, update):
                    await asyncio.sleep(self._retry)  # the receiver is down or refused: Telegram retries too
                    break
                with contextlib.suppress(ValueError):
                    self._world.updates.remove(update)

    async def _push(self, url: str, update: dict[str, Any]) -> bool:
        assert self._session is not None
        headers = {SECRET_HEADER: self.secret} if self.secret else {}
        try:
            async with self._session.post(url, json=update, headers=headers) as response:
                status = response.status
        except (aiohttp.ClientError, OSError, TimeoutError):
            status = 0
        self.pushes.append(Push(int(update["update_id"]), url, status))
        self._world.notify()
        return 200 <= status < 300
