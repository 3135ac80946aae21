"""The small HTTP/1.1 JSON client of the alert path, against raw servers on loopback that answer in each of
the ways HTTP allows: Content-Length, chunked, until close, split into pieces, slow, wrong."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bot.transports.telegram.http11 import HttpError, JsonPoster

Answer = Callable[[bytes], list[bytes]]  # the request's bytes → the pieces to send back, one write each


class RawServer:
    """Reads one request (head + Content-Length body) at a time and answers with ``answer``'s pieces;
    ``close_after`` closes the connection after the answer."""

    def __init__(self, answer: Answer, close_after: bool = False) -> None:
        self.answer = answer
        self.close_after = close_after
        self.requests: list[bytes] = []
        self.connections = 0
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                for piece in self.answer(request):
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0)
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


Serve = Callable[..., Awaitable[RawServer]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    started: list[asyncio.Server] = []

    async def start(answer: Answer, close_after: bool = False) -> RawServer:
        raw = RawServer(answer, close_after)
        server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
        started.append(server)
        raw.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/bot1:a/sendMessage"
        return raw

    yield start
    for server in started:
        server.close()
        await server.wait_closed()


def _json(body: bytes, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra + b"Content-Length: %d\r\n\r\n" % len(
        body
    ) + body


async def _poster() -> JsonPoster:
    return JsonPoster("newsalert-test", timeout=2.0, connect_timeout=2.0)


async def test_a_request_is_one_post_and_connections_are_reused(serve: Serve) -> None:
    server = await serve(lambda request: [_json(b'{"ok":true,"result":{"message_id":1}}')])
    poster = await _poster()
    for n in range(3):
        assert await poster.post(server.url, b'{"n":%d}' % n) == (200, b'{"ok":true,"result":{"message_id":1}}')
    poster.close()
    assert server.connections == 1
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /bot1:a/sendMessage HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"Content-Type: application/json" in head and b"Content-Length: 7" in head and body == b'{"n":0}'


async def test_answers_in_pieces_chunked_or_until_close_are_read_whole(serve: Serve) -> None:
    body = b'{"ok":false,"description":"Bad Request: chat not found"}'
    whole = _json(body)
    chunked = b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(
        b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:])
    ) + b"0\r\nX-Trailer: 1\r\n\r\n"
    until_close = b"HTTP/1.0 502 Bad Gateway\r\nContent-Type: text/html\r\n\r\n<html>down</html>"
    cases = [
        ([whole[i : i + 7] for i in range(0, len(whole), 7)], False, (200, body)),
        ([chunked[i : i + 5] for i in range(0, len(chunked), 5)], False, (400, body)),
        ([until_close], True, (502, b"<html>down</html>")),
    ]
    for pieces, close_after, expected in cases:
        server = await serve(lambda request, pieces=pieces: pieces, close_after)
        poster = await _poster()
        assert await poster.post(server.url, b"{}") == expected
        assert await poster.post(server.url, b"{}") == expected  # again: on the same or a fresh connection
        poster.close()


async def test_a_server_that_closes_without_answering_is_an_error_and_the_next_request_reconnects(
    serve: Serve,
) -> None:
    answers = iter([[], [_json(b'{"ok":true,"result":true}')]])
    server = await serve(lambda request: next(answers), close_after=True)
    poster = await _poster()
    with pytest.raises(HttpError, match="closed the connection"):
        await poster.post(server.url, b"{}")
    assert await poster.post(server.url, b"{}") == (200, b'{"ok":true,"result":true}')
    poster.close()
    assert server.connections == 2


async def test_no_answer_in_time_is_a_timeout_and_that_connection_is_not_reused(
    serve: Serve,
) -> None:
    answers = iter([[], [_json(b"{}")]])
    server = await serve(lambda request: next(answers))
    poster = JsonPoster("newsalert-test", timeout=0.2, connect_timeout=2.0)
    with pytest.raises(TimeoutError):
        await poster.post(server.url, b"{}")
    assert await poster.post(server.url, b"{}") == (200, b"{}")
    poster.close()
    assert server.connections == 2


async def test_garbage_instead_of_http_is_refused(serve: Serve) -> None:
    server = await serve(lambda request: [b"SSH-2.0-OpenSSH_9.2\r\n\r\n"])
    poster = await _poster()
    with pytest.raises(HttpError, match="not an HTTP"):
        await poster.post(server.url, b"{}")
    poster.close()


async def test_nobody_listening_is_an_os_error() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    poster = await _poster()
    with pytest.raises(OSError):
        await poster.post(f"http://127.0.0.1:{port}/x", b"{}")
