"""The aiohttp client PTB sends through, against small real servers on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData

from bot.core.messaging import OutgoingMessage, TransientError
from bot.transports.telegram.request import AiohttpRequest
from tests.telegram_server import BotApiServer
from tests.transports.conftest_telegram import RecordingHost, running_transport


class Loopback:
    """An HTTP server whose answer a test decides; records what it received."""

    def __init__(self) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()  # a "stuck" request answers only once this is set
        self.stuck = False
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((request.content_type, await request.read()))
        self.arrived.set()
        if self.stuck:
            await self.release.wait()
        return web.json_response({"ok": True, "result": {"message_id": 1}})


@pytest.fixture
async def loopback() -> AsyncIterator[Loopback]:
    state = Loopback()
    app = web.Application()
    app.router.add_post("/{method}", state.handle)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield state
    state.release.set()
    await runner.cleanup()


@pytest.fixture
async def request_client() -> AsyncIterator[AiohttpRequest]:
    client = AiohttpRequest(pool_size=1, read_timeout=0.2, write_timeout=0.2, pool_timeout=0.1)
    await client.initialize()
    yield client
    await client.shutdown()


async def test_parameters_go_as_one_json_body_with_nested_objects(
    loopback: Loopback, request_client: AiohttpRequest
) -> None:
    status, body = await request_client.do_request(f"{loopback.url}/sendMessage", "POST", _data())
    assert status == 200 and json.loads(body)["result"] == {"message_id": 1}
    [(content_type, raw)] = loopback.received
    assert content_type == "application/json"
    assert json.loads(raw) == {"chat_id": 5, "text": "<b>hi</b>", "reply_markup": {"inline_keyboard": []}}


async def test_an_answer_that_does_not_come_is_a_timeout(loopback: Loopback, request_client: AiohttpRequest) -> None:
    loopback.stuck = True
    with pytest.raises(TimedOut):
        await request_client.do_request(f"{loopback.url}/sendMessage", "POST", _data())


async def test_a_full_pool_refuses_after_the_pool_timeout_without_sending(
    loopback: Loopback, request_client: AiohttpRequest
) -> None:
    loopback.stuck = True
    first = asyncio.create_task(
        request_client.do_request(f"{loopback.url}/sendMessage", "POST", _data(), read_timeout=30.0)
    )
    await asyncio.wait_for(loopback.arrived.wait(), 10)  # the first request now holds the only connection
    with pytest.raises(TimedOut, match="Pool timeout"):
        await request_client.do_request(f"{loopback.url}/sendMessage", "POST", _data())
    assert len(loopback.received) == 1
    loopback.release.set()
    status, _ = await first
    assert status == 200


async def test_nobody_listening_is_a_network_error(request_client: AiohttpRequest) -> None:
    async with BotApiServer() as closed:
        url = closed.api_base_url
    with pytest.raises(NetworkError):
        await request_client.do_request(f"{url}123:x/getMe", "POST", None)


async def test_a_send_while_the_api_is_down_is_transient_for_the_outbox() -> None:
    async with BotApiServer() as server:
        chat = server.private_chat(server.add_user(7, "Ann"))
        async with running_transport(server, RecordingHost()) as transport:
            await server.stop()  # the API goes away under a running bot
            with pytest.raises(TransientError):
                await transport.messenger.send(str(chat.id), OutgoingMessage("<b>Alert</b>"))


def _data() -> RequestData:
    from telegram.request._requestparameter import RequestParameter  # how PTB itself builds RequestData

    return RequestData(
        [
            RequestParameter.from_input("chat_id", 5),
            RequestParameter.from_input("text", "<b>hi</b>"),
            RequestParameter.from_input("reply_markup", {"inline_keyboard": []}),
        ]
    )
