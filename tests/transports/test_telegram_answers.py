"""The alerts' short way to the Bot API (``AiohttpRequest.post_json`` + ``api_result``): every answer becomes
exactly what PTB's own ``BaseRequest`` makes of it, so the messenger's error handling stays one."""

from __future__ import annotations

import json

import pytest
from aiohttp import web
from telegram.error import TelegramError
from telegram.request import BaseRequest, RequestData

from bot.transports.telegram.request import AiohttpRequest, api_result


class _Canned(BaseRequest):
    """PTB's reference: its ``BaseRequest.post`` around a transport that gives one fixed answer."""

    def __init__(self, status: int, payload: bytes) -> None:
        self._answer = (status, payload)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, *args: object, **kwargs: object) -> tuple[int, bytes]:
        return self._answer


def _answer(status: int, body: object) -> tuple[int, bytes]:
    return status, json.dumps(body).encode() if not isinstance(body, bytes) else body


ANSWERS = [
    _answer(200, {"ok": True, "result": {"message_id": 7, "chat": {"id": 5}}}),
    _answer(200, {"ok": True, "result": True}),
    _answer(429, {"ok": False, "description": "Too Many Requests", "parameters": {"retry_after": 3}}),
    _answer(400, {"ok": False, "description": "Bad Request: upgraded", "parameters": {"migrate_to_chat_id": -100}}),
    _answer(403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
    _answer(400, {"ok": False, "description": "Bad Request: can't parse entities: unclosed tag"}),
    _answer(400, {"ok": False, "description": "Bad Request: chat not found"}),
    _answer(401, {"ok": False, "description": "Unauthorized"}),
    _answer(404, {"ok": False}),
    _answer(409, {"ok": False, "description": "Conflict: terminated by other getUpdates request"}),
    _answer(400, {"ok": False, "description": "odd", "parameters": {"something": 1}}),
    _answer(500, {"ok": False, "description": "Internal Server Error"}),
    _answer(502, b"<html>Bad Gateway</html>"),
    _answer(599, b"\xff\xfe not json"),
    _answer(200, b"not json"),
]


async def _reference(status: int, payload: bytes) -> object:
    try:
        return await _Canned(status, payload).post("http://x/bot1:a/sendMessage", RequestData())
    except TelegramError as exc:
        return exc


def _outcome(status: int, payload: bytes) -> object:
    try:
        return api_result(status, payload)
    except TelegramError as exc:
        return exc


def _same(ours: object, theirs: object) -> bool:
    if isinstance(theirs, TelegramError):
        return type(ours) is type(theirs) and str(ours) == str(theirs)
    return ours == theirs


@pytest.mark.parametrize(("status", "payload"), ANSWERS)
async def test_every_answer_means_what_it_means_to_ptb(status: int, payload: bytes) -> None:
    ours, theirs = _outcome(status, payload), await _reference(status, payload)
    assert _same(ours, theirs), (ours, theirs)


async def test_post_json_sends_the_body_as_it_is_and_returns_the_result() -> None:
    received: list[tuple[str, str, bytes]] = []

    async def handle(request: web.Request) -> web.Response:
        received.append((request.path, request.content_type, await request.read()))
        if len(received) == 1:
            return web.json_response({"ok": True, "result": {"message_id": 41}})
        return web.json_response({"ok": False, "description": "Forbidden: bot was kicked"}, status=403)

    app = web.Application()
    app.router.add_post("/{path:.*}", handle)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    client = AiohttpRequest(pool_size=2)
    await client.initialize()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/bot1:a/sendMessage"
        body = b'{"chat_id": 5, "text": "\\u00e9t\\u00e9"}'
        assert await client.post_json(url, body) == {"message_id": 41}
        with pytest.raises(TelegramError, match="bot was kicked"):
            await client.post_json(url, body)
    finally:
        await client.shutdown()
        await runner.cleanup()
    assert received[0] == ("/bot1:a/sendMessage", "application/json", body)
