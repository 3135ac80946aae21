"""HTTP plumbing of the test server: aiohttp on loopback, requests parsed into :class:`Params`, the send
gate asked before a send is performed, answers shaped like the Bot API's."""

from __future__ import annotations

import json
import time
from typing import Any

import orjson
from aiohttp import web
from multidict import MultiDictProxy

from tests.telegram_server.faults import SendGate
from tests.telegram_server.methods import BotApiMethods
from tests.telegram_server.models import SEND_METHODS, ApiCall
from tests.telegram_server.protocol import ApiError, Params
from tests.telegram_server.world import World


def json_response(body: Any, status: int = 200) -> web.Response:
    """The answer as JSON bytes (orjson, what ``web.json_response`` would send, without its per-answer
    encoder setup); the standard encoder only for what orjson refuses (integers beyond 64 bits)."""
    try:
        data = orjson.dumps(body)
    except orjson.JSONEncodeError:
        data = json.dumps(body).encode()
    return web.Response(body=data, status=status, content_type="application/json", charset="utf-8")


def error_response(exc: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
    if exc.parameters:
        body["parameters"] = exc.parameters
    return json_response(body, status=exc.status)


def load_json(raw: bytes, charset: str | None) -> Any:
    """``request.json()``'s result for the same body: orjson for UTF-8 (the common case, several times
    faster); whatever orjson refuses goes to the standard decoder, which accepts or refuses it as before."""
    if charset is None or charset.lower() in ("utf-8", "utf8"):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw.decode(charset or "utf-8"))


async def read_params(request: web.Request) -> Params:
    values: dict[str, Any] = dict(request.query) if request.query_string else {}
    files: dict[str, web.FileField] = {}
    if request.content_type == "application/json":
        try:
            body = load_json(await request.read(), request.charset)
        except json.JSONDecodeError:
            raise ApiError.bad_request("can't parse JSON body") from None
        if isinstance(body, dict):
            values.update(body)
    elif request.can_read_body:
        form: MultiDictProxy[Any] = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = value
            else:
                values[key] = value
    return Params(values, files)


class HttpFront:
    """Serves ``/bot<token>/<method>`` and ``/file/bot<token>/<path>``."""

    def __init__(self, world: World, gate: SendGate, methods: BotApiMethods) -> None:
        self._world = world
        self._gate = gate
        self._methods = methods
        self._runner: web.AppRunner | None = None

    async def start(self, host: str) -> int:
        """Listen on ``host`` at a free port; returns the port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0)
        await site.start()
        port: int = self._runner.addresses[0][1]
        return port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ---------------------------------------------------------------- HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self._world.token:
            return error_response(ApiError(401, "Unauthorized"))
        name = request.match_info["method"]
        arrived_at = time.monotonic()
        try:
            params = await read_params(request)
        except ApiError as exc:
            return error_response(exc)
        self._world.calls.append(ApiCall(name, dict(params.values)))
        key = name.lower()
        method = self._methods.table.get(key)
        if method is None:
            return error_response(ApiError(404, "Not Found: method not found"))
        is_send = key in SEND_METHODS
        status = 200
        try:
            if is_send:
                self._gate.admit(params, arrived_at)
            result = await method(params)
        except ApiError as exc:
            status = exc.status
            return error_response(exc)
        finally:
            if is_send:
                self._gate.record(name, params, arrived_at, status)
            self._world.notify()
        return json_response({"ok": True, "result": result})

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self._world.token:
            return web.Response(status=401, text="Unauthorized")
        path = request.match_info["path"]
        self._world.calls.append(ApiCall("download", {"file_path": path}))
        self._world.notify()
        for stored in self._world.files.values():
            if stored.file_path == path:
                return web.Response(body=stored.content, content_type="application/octet-stream")
        return web.Response(status=404, text="Not Found")
