"""The Bot API test server itself: it must reject what Telegram rejects, or the transport tests prove nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.telegram_server import BotApiServer, EntityParseError, Fault, parse_html


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, server: BotApiServer, method: str, **params: Any
) -> tuple[int, dict[str, Any]]:
    # Form fields with JSON-encoded objects, the way python-telegram-bot sends them.
    form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    async with http.post(f"{server.api_base_url}{server.token}/{method}", data=form) as response:
        return response.status, await response.json()


# ------------------------------------------------------------------------------------------ HTML entities


@pytest.mark.parametrize(
    ("source", "text", "types"),
    [
        ("<b>bold</b> and <i>it</i>", "bold and it", ["bold", "italic"]),
        ("<strong>a</strong><em>b</em><u>c</u><ins>d</ins>", "abcd", ["bold", "italic", "underline", "underline"]),
        ("<s>a</s><strike>b</strike><del>c</del>", "abc", ["strikethrough"] * 3),
        ('<a href="https://x.org/?a=1&amp;b=2">link</a>', "link", ["text_link"]),
        ("<code>x</code> <pre>y</pre>", "x y", ["code", "pre"]),
        ('<tg-spoiler>s</tg-spoiler><span class="tg-spoiler">t</span>', "st", ["spoiler", "spoiler"]),
        ("<blockquote>q</blockquote>", "q", ["blockquote"]),
        ("1 &lt; 2 &amp;&amp; 3 &gt; 2 &quot;ok&quot; &#228;&#xE4;", '1 < 2 && 3 > 2 "ok" ää', []),
        ("AT&T &nbsp;", "AT&T &nbsp;", []),  # unknown sequences stay literal, like Telegram
    ],
)
def test_allowed_html_is_parsed_into_text_and_entities(source: str, text: str, types: list[str]) -> None:
    parsed = parse_html(source)
    assert parsed.text == text
    assert [e["type"] for e in parsed.entities] == types


def test_entity_offsets_count_utf16_units() -> None:
    parsed = parse_html("😀 <b>Kim</b>")
    assert parsed.entities == [{"type": "bold", "offset": 3, "length": 3}]
    assert parse_html('<a href="https://e.org">e</a>').entities[0]["url"] == "https://e.org"


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("<b>open", "Can't find end tag"),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("x</b>", "Unexpected end tag"),
        ("<script>x</script>", 'Unsupported start tag "script"'),
        ("<br/>", 'Unsupported start tag "br"'),
        ("1 < 2", 'Unsupported start tag ""'),
        ('<span class="x">y</span>', "tg-spoiler"),
        ('<a href="x>y', "Unclosed start tag"),
    ],
)
def test_bad_html_is_refused_like_telegram(source: str, fragment: str) -> None:
    with pytest.raises(EntityParseError, match="can't parse entities") as caught:
        parse_html(source)
    assert fragment in str(caught.value)


# ------------------------------------------------------------------------------------------ over HTTP


async def test_send_message_validates_markup_and_length(server: BotApiServer, http: aiohttp.ClientSession) -> None:
    chat = server.private_chat(server.add_user(7, "Ann"))

    status, body = await call(http, server, "sendMessage", chat_id=chat.id, text="<b>x", parse_mode="HTML")
    assert (status, body["ok"]) == (400, False)
    assert body["description"].startswith("Bad Request: can't parse entities")

    # 4096 characters after entity parsing are fine even though the HTML source is longer ...
    status, _ = await call(http, server, "sendMessage", chat_id=chat.id, text=f"<b>{'a' * 4096}</b>", parse_mode="HTML")
    assert status == 200
    # ... 4097 are not.
    status, body = await call(http, server, "sendMessage", chat_id=chat.id, text="a" * 4097)
    assert (status, body["description"]) == (400, "Bad Request: message is too long")

    status, body = await call(http, server, "sendMessage", chat_id=999, text="hi")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    assert len(server.bot_messages(chat)) == 1


async def test_callback_data_is_limited_to_64_bytes(server: BotApiServer, http: aiohttp.ClientSession) -> None:
    chat = server.private_chat(server.add_user(7, "Ann"))
    keyboard = {"inline_keyboard": [[{"text": "ok", "callback_data": "ä" * 32}]]}  # 64 bytes
    status, body = await call(http, server, "sendMessage", chat_id=chat.id, text="t", reply_markup=keyboard)
    assert status == 200
    assert body["result"]["reply_markup"] == keyboard

    keyboard = {"inline_keyboard": [[{"text": "no", "callback_data": "x" * 65}]]}
    status, body = await call(http, server, "sendMessage", chat_id=chat.id, text="t", reply_markup=keyboard)
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")


async def test_faults_are_answered_like_telegram(server: BotApiServer, http: aiohttp.ClientSession) -> None:
    chat = server.private_chat(server.add_user(7, "Ann"))
    for fault in (Fault.blocked(), Fault.migrated(-1001234), Fault.bad_gateway(), Fault.flood(3)):
        server.inject(fault)

    answers = [await call(http, server, "sendMessage", chat_id=chat.id, text="hi") for _ in range(4)]
    assert [status for status, _ in answers] == [403, 400, 502, 429]
    assert answers[0][1]["description"] == "Forbidden: bot was blocked by the user"
    assert answers[1][1]["parameters"] == {"migrate_to_chat_id": -1001234}
    assert answers[3][1]["parameters"] == {"retry_after": 3}

    # Asking again inside the flood window is refused too, and recorded as not having waited.
    status, body = await call(http, server, "sendMessage", chat_id=chat.id, text="hi")
    assert status == 429
    assert 1 <= body["parameters"]["retry_after"] <= 3
    assert len(server.early_sends()) == 1
    assert server.bot_messages(chat) == []


async def test_injected_faults_hit_only_their_chat(server: BotApiServer, http: aiohttp.ClientSession) -> None:
    ann = server.private_chat(server.add_user(7, "Ann"))
    bob = server.private_chat(server.add_user(8, "Bob"))
    server.inject(Fault.blocked(), chat=ann)
    server.inject(Fault.migrated(-1001234), chat=bob)
    server.inject(Fault.bad_gateway(), chat=bob)

    assert (await call(http, server, "sendMessage", chat_id=bob.id, text="1"))[0] == 400
    status, body = await call(http, server, "sendMessage", chat_id=ann.id, text="2")
    assert (status, body["description"]) == (403, "Forbidden: bot was blocked by the user")
    assert (await call(http, server, "sendMessage", chat_id=bob.id, text="3"))[0] == 502
    assert (await call(http, server, "sendMessage", chat_id=bob.id, text="4"))[0] == 200


async def test_rate_limit_answers_429_with_retry_after(http: aiohttp.ClientSession) -> None:
    async with BotApiServer(send_rate_limit=5) as server:
        chat = server.private_chat(server.add_user(7, "Ann"))
        results = [await call(http, server, "sendMessage", chat_id=chat.id, text=str(i)) for i in range(6)]
    assert [status for status, _ in results[:5]] == [200] * 5
    status, body = results[5]
    assert status == 429
    assert body["parameters"]["retry_after"] >= 1


async def test_get_updates_long_polls_and_confirms_with_offset(
    server: BotApiServer, http: aiohttp.ClientSession
) -> None:
    user = server.add_user(7, "Ann")
    chat = server.private_chat(user)
    poll = asyncio.create_task(call(http, server, "getUpdates", offset=0, timeout=20))
    await server.wait_for(lambda: bool(server.calls_to("getUpdates")), what="the poll to arrive")
    server.user_sends(chat, user, "/start")
    status, body = await poll
    assert status == 200
    [update] = body["result"]
    assert update["message"]["text"] == "/start"
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]

    # Not confirmed yet: delivered again; confirmed by the next offset: gone.
    _, again = await call(http, server, "getUpdates", offset=0, timeout=0)
    assert [u["update_id"] for u in again["result"]] == [update["update_id"]]
    _, after = await call(http, server, "getUpdates", offset=update["update_id"] + 1, timeout=0)
    assert after["result"] == []


async def test_a_second_poller_ends_the_first_with_a_conflict(
    server: BotApiServer, http: aiohttp.ClientSession
) -> None:
    first = asyncio.create_task(call(http, server, "getUpdates", timeout=20))
    await server.wait_for(lambda: bool(server.calls_to("getUpdates")), what="the first poll")
    status, _ = await call(http, server, "getUpdates", timeout=0)
    assert status == 200
    status, body = await first
    assert status == 409 and body["description"].startswith("Conflict: terminated by other getUpdates")
    assert server.conflicts == 1


async def test_allowed_updates_filters_kinds(server: BotApiServer, http: aiohttp.ClientSession) -> None:
    user = server.add_user(7, "Ann")
    server.block_bot(user)  # a my_chat_member update
    server.user_sends(server.private_chat(user), user, "hello")
    _, body = await call(http, server, "getUpdates", timeout=0, allowed_updates=["message"])
    assert [list(u)[1] for u in body["result"]] == ["message"]


async def test_commands_are_stored_per_language(server: BotApiServer, http: aiohttp.ClientSession) -> None:
    await call(http, server, "setMyCommands", commands=[{"command": "list", "description": "List"}])
    await call(
        http, server, "setMyCommands", commands=[{"command": "list", "description": "Liste"}], language_code="de"
    )
    status, body = await call(http, server, "setMyCommands", commands=[{"command": "Bad!", "description": "x"}])
    assert (status, body["description"]) == (400, "Bad Request: BOT_COMMAND_INVALID")
    assert server.commands("") == [{"command": "list", "description": "List"}]
    assert server.commands("de") == [{"command": "list", "description": "Liste"}]


async def test_files_are_served_under_the_file_url(server: BotApiServer, http: aiohttp.ClientSession) -> None:
    user = server.add_user(7, "Ann")
    message = server.user_sends_document(server.private_chat(user), user, filename="a.txt", content=b"hello")
    assert message.document is not None
    _, body = await call(http, server, "getFile", file_id=message.document["file_id"])
    path = body["result"]["file_path"]
    async with http.get(f"{server.file_base_url}{server.token}/{path}") as response:
        assert await response.read() == b"hello"
    status, body = await call(http, server, "getFile", file_id="nope")
    assert (status, body["description"]) == (400, "Bad Request: invalid file_id")


async def test_wrong_token_is_unauthorized(server: BotApiServer, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{server.api_base_url}999:WRONG/getMe") as response:
        assert response.status == 401
        assert (await response.json())["description"] == "Unauthorized"


async def test_edit_message_text_validates_and_replaces(server: BotApiServer, http: aiohttp.ClientSession) -> None:
    chat = server.private_chat(server.add_user(7, "Ann"))
    _, sent = await call(http, server, "sendMessage", chat_id=chat.id, text="<b>old</b>", parse_mode="HTML")
    message_id = sent["result"]["message_id"]

    status, body = await call(
        http, server, "editMessageText", chat_id=chat.id, message_id=message_id, text="<b>old</b>", parse_mode="HTML"
    )
    assert status == 400 and body["description"].startswith("Bad Request: message is not modified")
    status, body = await call(
        http, server, "editMessageText", chat_id=chat.id, message_id=message_id, text="<i>new", parse_mode="HTML"
    )
    assert status == 400 and "can't parse entities" in body["description"]
    status, body = await call(http, server, "editMessageText", chat_id=chat.id, message_id=999, text="x")
    assert (status, body["description"]) == (400, "Bad Request: message to edit not found")

    status, _ = await call(
        http, server, "editMessageText", chat_id=chat.id, message_id=message_id, text="<i>new</i>", parse_mode="HTML"
    )
    assert status == 200
    [message] = server.bot_messages(chat)
    assert (message.text, message.entities[0]["type"], message.edit_count) == ("new", "italic", 1)


async def test_send_document_accepts_uploads(server: BotApiServer, http: aiohttp.ClientSession) -> None:
    chat = server.private_chat(server.add_user(7, "Ann"))
    form = aiohttp.FormData()
    form.add_field("chat_id", str(chat.id))
    form.add_field("caption", "<b>report</b>")
    form.add_field("parse_mode", "HTML")
    form.add_field("document", b"a,b\n1,2\n", filename="report.csv", content_type="text/csv")
    async with http.post(f"{server.api_base_url}{server.token}/sendDocument", data=form) as response:
        assert response.status == 200
        result = (await response.json())["result"]
    assert result["document"]["file_name"] == "report.csv"
    assert result["caption"] == "report"
    [message] = server.bot_messages(chat)
    assert message.document is not None and message.document["file_size"] == 8
