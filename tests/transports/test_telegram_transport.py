"""The Telegram transport against the local Bot API server, with a recording host instead of the application."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.core.messaging import (
    Button,
    ChatGone,
    ChatMoved,
    IncomingCommand,
    OutgoingMessage,
    Reply,
    RetryLater,
    SendError,
    TransientError,
)
from bot.core.models import ChatKey
from bot.transports.telegram import TelegramTransport
from tests.telegram_server import BotApiServer, Fault, TgChat, TgUser
from tests.transports.conftest_telegram import ADMIN_ID, RecordingHost, running_transport


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer() as running:
        yield running


@pytest.fixture
def host() -> RecordingHost:
    return RecordingHost()


@pytest.fixture
async def transport(server: BotApiServer, host: RecordingHost) -> AsyncIterator[TelegramTransport]:
    async with running_transport(server, host) as running:
        yield running


@pytest.fixture
def ann(server: BotApiServer) -> TgUser:
    return server.add_user(7, "Ann", language_code="de-DE")


@pytest.fixture
def admin(server: BotApiServer) -> TgUser:
    return server.add_user(ADMIN_ID, "Ada", language_code="en")


@pytest.fixture
def group(server: BotApiServer) -> TgChat:
    return server.add_group(-555, "Newsroom")


async def wait_for_commands(host: RecordingHost, server: BotApiServer, count: int) -> list[IncomingCommand]:
    await server.wait_for(lambda: len(host.commands) >= count, what=f"{count} command(s) at the host")
    return host.commands


# ------------------------------------------------------------------------------------------ start


async def test_start_publishes_the_command_menu_in_english_and_german(
    server: BotApiServer, transport: TelegramTransport
) -> None:
    assert [c["command"] for c in server.commands("")] == ["subscribe", "list"]
    assert server.commands("de")[0] == {"command": "subscribe", "description": "Thema abonnieren"}
    assert transport.bot_username == "newsalert_test_bot"
    assert not server.calls_to("close") and not server.calls_to("logOut")


async def test_a_bad_token_is_one_clear_error(server: BotApiServer, host: RecordingHost) -> None:
    from bot.transports.telegram import TelegramStartError
    from tests.transports.conftest_telegram import telegram_settings

    transport = TelegramTransport(telegram_settings(server, token="999:WRONG"), host)
    with pytest.raises(TelegramStartError, match="rejected the bot token"):
        await transport.start()


async def test_an_unreachable_api_is_one_clear_error(server: BotApiServer, host: RecordingHost) -> None:
    from bot.transports.telegram import TelegramStartError
    from tests.transports.conftest_telegram import telegram_settings

    closed = BotApiServer()
    await closed.start()
    await closed.stop()  # a port nobody listens on any more
    transport = TelegramTransport(telegram_settings(server, api_base_url=closed.api_base_url), host)
    with pytest.raises(TelegramStartError, match="cannot reach the Telegram Bot API"):
        await transport.start()


# ------------------------------------------------------------------------------------------ commands


async def test_private_command_becomes_an_incoming_command_and_the_reply_is_html(
    server: BotApiServer, host: RecordingHost, transport: TelegramTransport, ann: TgUser
) -> None:
    chat = server.private_chat(ann)
    server.user_sends(chat, ann, "/Subscribe  Kim Jong-un ")
    [reply] = await server.wait_for_bot_messages(chat)

    [command] = host.commands
    assert command == IncomingCommand(
        platform="telegram",
        chat_id="7",
        user_id="7",
        name="subscribe",
        args="Kim Jong-un",
        is_group=False,
        is_bot_admin=False,
        can_manage_chat=True,
        lang_hint="de",
        chat_title="Ann",
    )
    assert reply.raw_text == "<b>subscribe</b> Kim Jong-un"
    assert reply.parse_mode == "HTML"
    assert reply.entities == [{"type": "bold", "offset": 0, "length": 9}]
    assert reply.link_preview_disabled is True
    assert server.conflicts == 0  # one poller at a time


async def test_plain_text_and_commands_for_other_bots_are_ignored(
    server: BotApiServer, host: RecordingHost, transport: TelegramTransport, ann: TgUser, group: TgChat
) -> None:
    server.user_sends(group, ann, "hello everyone")
    server.user_sends(group, ann, "/list@some_other_bot")
    server.user_sends(group, ann, "/list@NewsAlert_Test_Bot recent")
    await server.wait_for_bot_messages(group)
    assert [(c.name, c.args, c.is_group, c.chat_title) for c in host.commands] == [("list", "recent", True, "Newsroom")]


async def test_in_groups_only_chat_admins_may_manage_and_only_then_telegram_is_asked(
    server: BotApiServer,
    host: RecordingHost,
    transport: TelegramTransport,
    ann: TgUser,
    admin: TgUser,
    group: TgChat,
) -> None:
    boss = server.add_user(9, "Boss")
    server.set_member_status(group, boss, "administrator")
    owner = server.add_user(10, "Owner")
    server.set_member_status(group, owner, "creator")

    server.user_sends(group, ann, "/list")  # reading needs no rights check
    server.user_sends(group, ann, "/subscribe Putin")
    server.user_sends(group, boss, "/subscribe Putin")
    server.user_sends(group, owner, "/unsubscribe Putin")
    server.user_sends(group, admin, "/subscribe Kim")  # a bot admin needs no check either
    commands = await wait_for_commands(host, server, 5)

    assert [(c.user_id, c.name, c.can_manage_chat, c.is_bot_admin) for c in commands] == [
        ("7", "list", False, False),
        ("7", "subscribe", False, False),
        ("9", "subscribe", True, False),
        ("10", "unsubscribe", True, False),
        (str(ADMIN_ID), "subscribe", True, True),
    ]
    asked = [int(call.params["user_id"]) for call in server.calls_to("getChatMember")]
    assert asked == [7, 9, 10]


async def test_a_failing_handler_gets_the_user_an_apology_not_a_traceback(
    server: BotApiServer, host: RecordingHost, transport: TelegramTransport, ann: TgUser
) -> None:
    async def explode(command: IncomingCommand) -> Reply:
        raise RuntimeError("database on fire")

    host.behaviours["boom"] = explode
    chat = server.private_chat(ann)
    server.user_sends(chat, ann, "/boom")
    [apology] = await server.wait_for_bot_messages(chat)
    assert apology.text is not None and apology.text.startswith("Entschuldigung")
    assert "database" not in apology.text and "Traceback" not in apology.text

    server.user_sends(chat, ann, "/list")  # the transport keeps working
    await server.wait_for_bot_messages(chat, 2)


async def test_long_replies_are_split_under_the_limit_with_buttons_on_the_last_part(
    server: BotApiServer, host: RecordingHost, transport: TelegramTransport, ann: TgUser
) -> None:
    lines = [f"<b>{n}</b> " + "x" * 90 for n in range(100)]  # about 10,000 characters

    async def long_list(command: IncomingCommand) -> Reply:
        return Reply.text("\n".join(lines), ((Button("Remove 1", "unsubscribe 1"),),))

    host.behaviours["list"] = long_list
    chat = server.private_chat(ann)
    server.user_sends(chat, ann, "/list")
    full = "\n".join(lines)
    await server.wait_for(
        lambda: "\n".join(p.raw_text or "" for p in server.bot_messages(chat)) == full, what="every part"
    )
    parts = server.bot_messages(chat)
    assert all(len(p.raw_text or "") <= 4096 for p in parts)
    assert len(parts) == 3
    assert [bool(p.buttons) for p in parts] == [False] * (len(parts) - 1) + [True]


# ------------------------------------------------------------------------------------------ buttons


async def _list_with_buttons(server: BotApiServer, host: RecordingHost, chat: TgChat, user: TgUser) -> None:
    async def listing(command: IncomingCommand) -> Reply:
        buttons = ((Button("❌ Putin", "unsubscribe Putin"), Button("❌ Kim", "unsubscribe Kim Jong-un")),)
        return Reply.text("1. Putin\n2. Kim Jong-un", buttons)

    host.behaviours["list"] = listing
    server.user_sends(chat, user, "/list")


async def test_pressing_a_button_runs_its_command(
    server: BotApiServer, host: RecordingHost, transport: TelegramTransport, ann: TgUser
) -> None:
    chat = server.private_chat(ann)
    await _list_with_buttons(server, host, chat, ann)
    [listing] = await server.wait_for_bot_messages(chat)
    assert listing.button_labels == ["❌ Putin", "❌ Kim"]

    query = server.press_button(chat, ann, listing, "❌ Kim")
    answer = await server.wait_for_callback_answer(query)
    assert answer["text"] is None  # no toast: the reply comes as a message
    await server.wait_for_bot_messages(chat, 2)
    pressed = host.commands[-1]
    assert (pressed.name, pressed.args, pressed.callback, pressed.user_id) == (
        "unsubscribe",
        "Kim Jong-un",
        True,
        "7",
    )


async def test_forged_or_foreign_button_data_gets_a_polite_answer_and_runs_nothing(
    server: BotApiServer, host: RecordingHost, transport: TelegramTransport, ann: TgUser, group: TgChat
) -> None:
    chat = server.private_chat(ann)
    await _list_with_buttons(server, host, chat, ann)
    [listing] = await server.wait_for_bot_messages(chat)
    genuine = listing.button("❌ Putin")["callback_data"]

    forged = genuine.replace("unsubscribe Putin", "unsubscribe Kim")
    tampered = server.send_callback(chat, ann, listing, forged)
    garbage = server.send_callback(chat, ann, listing, "stats")
    server.user_sends(group, ann, "/list")
    [group_listing] = await server.wait_for_bot_messages(group)
    copied = server.send_callback(group, ann, group_listing, genuine)  # valid data, from another chat
    for query in (tampered, garbage, copied):
        answer = await server.wait_for_callback_answer(query)
        assert answer["text"] == "Diese Schaltfläche ist nicht mehr gültig. Bitte führe den Befehl erneut aus."
    assert [c.name for c in host.commands] == ["list", "list"]


async def test_commands_too_long_for_button_data_are_kept_in_state(
    server: BotApiServer, host: RecordingHost, transport: TelegramTransport, ann: TgUser
) -> None:
    command_line = "subscribe " + "Nordkoreas Machthaber Kim Jong-un trifft Wladimir Putin"

    async def candidates(command: IncomingCommand) -> Reply:
        return Reply.text("Which one?", ((Button("Kim", command_line),),))

    host.behaviours["subscribe"] = candidates
    chat = server.private_chat(ann)
    server.user_sends(chat, ann, "/subscribe Kim")
    [question] = await server.wait_for_bot_messages(chat)
    assert len(question.button("Kim")["callback_data"].encode()) <= 64

    server.press_button(chat, ann, question, "Kim")
    await wait_for_commands(host, server, 2)
    assert host.commands[-1].args == command_line.removeprefix("subscribe ")


async def test_button_presses_in_groups_check_the_presser(
    server: BotApiServer, host: RecordingHost, transport: TelegramTransport, ann: TgUser, group: TgChat
) -> None:
    boss = server.add_user(9, "Boss")
    server.set_member_status(group, boss, "administrator")
    await _list_with_buttons(server, host, group, boss)
    [listing] = await server.wait_for_bot_messages(group)
    server.press_button(group, ann, listing, "❌ Putin")
    server.press_button(group, boss, listing, "❌ Putin")
    commands = await wait_for_commands(host, server, 3)
    assert [(c.user_id, c.can_manage_chat) for c in commands[1:]] == [("7", False), ("9", True)]


# ------------------------------------------------------------------------------------------ documents


async def _fetching_addseed(host: RecordingHost) -> None:
    async def addseed(command: IncomingCommand) -> Reply:
        if not command.is_bot_admin:
            return Reply.text("only admins can add articles")
        if command.attachment is None:
            return Reply.text("no file")
        try:
            data = await command.attachment.fetch()
        except ValueError as exc:
            return Reply.text(f"refused: {exc}")
        return Reply.text(f"got {command.attachment.filename}: {len(data)} bytes")

    host.behaviours["addseed"] = addseed


async def test_admin_document_with_caption_is_downloaded_on_demand(
    server: BotApiServer, host: RecordingHost, transport: TelegramTransport, admin: TgUser
) -> None:
    await _fetching_addseed(host)
    chat = server.private_chat(admin)
    server.user_sends_document(chat, admin, filename="kim.txt", content=b"date 2023-09\nKim", caption="/addseed")
    [reply] = await server.wait_for_bot_messages(chat)
    assert reply.text == "got kim.txt: 16 bytes"
    attachment = host.commands[0].attachment
    assert attachment is not None and (attachment.size, attachment.mime_type) == (16, "text/plain")
    assert len(server.calls_to("getFile")) == 1 and len(server.calls_to("download")) == 1


async def test_addseed_replying_to_a_document_uses_that_document(
    server: BotApiServer, host: RecordingHost, transport: TelegramTransport, admin: TgUser
) -> None:
    await _fetching_addseed(host)
    chat = server.private_chat(admin)
    document = server.user_sends_document(chat, admin, filename="a.txt", content=b"abc")
    server.user_sends(chat, admin, "/addseed", reply_to=document)
    [reply] = await server.wait_for_bot_messages(chat)
    assert reply.text == "got a.txt: 3 bytes"


async def test_non_admin_upload_causes_no_download(
    server: BotApiServer, host: RecordingHost, transport: TelegramTransport, ann: TgUser
) -> None:
    await _fetching_addseed(host)
    chat = server.private_chat(ann)
    server.user_sends_document(chat, ann, filename="x.txt", content=b"spam", caption="/addseed")
    [reply] = await server.wait_for_bot_messages(chat)
    assert reply.text == "only admins can add articles"
    assert server.calls_to("getFile") == [] and server.calls_to("download") == []


async def test_oversized_document_is_refused_before_download(
    server: BotApiServer, host: RecordingHost, admin: TgUser
) -> None:
    await _fetching_addseed(host)
    async with running_transport(server, host, max_upload_bytes=1000):
        chat = server.private_chat(admin)
        server.user_sends_document(
            chat, admin, filename="big.txt", content=b"x", caption="/addseed", declared_size=10_000
        )
        server.user_sends_document(
            chat, admin, filename="liar.txt", content=b"y" * 2000, caption="/addseed", declared_size=10
        )
        replies = await server.wait_for_bot_messages(chat, 2)
    assert [r.text for r in replies] == ["refused: the file is larger than 1000 bytes"] * 2
    assert len(server.calls_to("getFile")) == 1  # only the file that claimed to be small


# ------------------------------------------------------------------------------------------ chat lifecycle


async def test_blocking_or_removing_the_bot_deactivates_the_chat(
    server: BotApiServer, host: RecordingHost, transport: TelegramTransport, ann: TgUser, group: TgChat
) -> None:
    server.block_bot(ann)
    server.remove_bot(group, ann)
    await server.wait_for(lambda: len(host.gone) == 2, what="two chats gone")
    assert host.gone == [ChatKey("telegram", "7"), ChatKey("telegram", "-555")]


async def test_group_migration_moves_the_chat(
    server: BotApiServer, host: RecordingHost, transport: TelegramTransport, ann: TgUser, group: TgChat
) -> None:
    supergroup = server.migrate_group(group, ann)
    await server.wait_for(lambda: bool(host.moved), what="the move")
    assert host.moved == [(ChatKey("telegram", "-555"), str(supergroup.id))]


async def test_a_reply_to_a_migrated_group_follows_it(
    server: BotApiServer, host: RecordingHost, transport: TelegramTransport, ann: TgUser, group: TgChat
) -> None:
    server.inject(Fault.migrated(-100555), chat=group)
    server.user_sends(group, ann, "/list")
    [reply] = await server.wait_for_bot_messages(-100555)
    assert reply.text == "list "
    assert host.moved == [(ChatKey("telegram", "-555"), "-100555")]


# ------------------------------------------------------------------------------------------ messenger


async def test_send_errors_are_mapped_to_neutral_errors(
    server: BotApiServer, transport: TelegramTransport, ann: TgUser
) -> None:
    chat = server.private_chat(ann)
    messenger = transport.messenger
    message = OutgoingMessage("<b>Kim</b> meets Putin")

    server.inject(Fault.blocked(), chat=chat)
    with pytest.raises(ChatGone):
        await messenger.send("7", message)
    server.inject(Fault.migrated(-1009), chat=chat)
    with pytest.raises(ChatMoved) as moved:
        await messenger.send("7", message)
    assert moved.value.new_chat_id == "-1009"
    server.inject(Fault.bad_gateway(), chat=chat)
    with pytest.raises(TransientError):
        await messenger.send("7", message)
    with pytest.raises(ChatGone):
        await messenger.send("12345", message)  # chat not found
    server.inject(Fault.flood(1), chat=chat)
    with pytest.raises(RetryLater) as flood:
        await messenger.send("7", message)
    assert flood.value.seconds == 1

    sent = await messenger.send("7", message)  # waits out the flood by itself, then delivers
    assert sent.message_ids == (str(server.bot_messages(chat)[0].message_id),)
    assert server.early_sends() == []
    assert messenger.platform == "telegram" and messenger.max_message_chars == 4096


async def test_bad_markup_is_resent_as_plain_text(
    server: BotApiServer, transport: TelegramTransport, ann: TgUser
) -> None:
    chat = server.private_chat(ann)
    await transport.messenger.send("7", OutgoingMessage("<b>Kim &amp; Putin</i> <blink>!", link_preview=True))
    [message] = server.bot_messages(chat)
    assert (message.text, message.parse_mode, message.link_preview_disabled) == ("Kim & Putin !", None, False)
    assert [a.status for a in server.attempts] == [400, 200]


async def test_other_refusals_are_permanent_send_errors(
    server: BotApiServer, transport: TelegramTransport, ann: TgUser
) -> None:
    server.private_chat(ann)
    with pytest.raises(SendError) as refused:
        await transport.messenger.send("7", OutgoingMessage("<b></b>"))
    assert type(refused.value) is SendError
    assert "message text is empty" in str(refused.value).lower()


async def test_replies_wait_out_a_flood(
    server: BotApiServer, host: RecordingHost, transport: TelegramTransport, ann: TgUser
) -> None:
    chat = server.private_chat(ann)
    server.inject(Fault.flood(1), chat=chat, count=2)
    server.user_sends(chat, ann, "/list")
    await server.wait_for_bot_messages(chat)
    assert [a.status for a in server.attempts] == [429, 429, 200]
    assert server.early_sends() == []


@pytest.mark.telegram
async def test_500_sends_under_floods_arrive_once_each_and_the_bot_waits_as_told() -> None:
    """A fan-out to 500 chats through the messenger alone (the delivery service is tested separately),
    with a rate limit the burst exceeds plus injected floods and outages."""
    server_rate = 150
    async with BotApiServer(send_rate_limit=server_rate) as server:
        host = RecordingHost()
        async with running_transport(server, host) as limited:
            users = [server.add_user(1000 + n, f"Reader {n}") for n in range(500)]
            chats = [server.private_chat(user) for user in users]
            server.inject(Fault.flood(2), count=3)
            server.inject(Fault.flood(1), chat=chats[250])
            server.inject(Fault.bad_gateway(), count=2)

            queue: asyncio.Queue[int] = asyncio.Queue()
            for n in range(500):
                queue.put_nowait(n)

            async def worker() -> None:
                while not queue.empty():
                    n = queue.get_nowait()
                    message = OutgoingMessage(f"<b>Alert</b> #{n}")
                    while True:
                        try:
                            await limited.messenger.send(str(chats[n].id), message)
                            break
                        except RetryLater as exc:
                            await asyncio.sleep(exc.seconds)
                        except TransientError:
                            await asyncio.sleep(0.1)

            await asyncio.gather(*(worker() for _ in range(8)))

        received = [[m.text for m in server.bot_messages(chat)] for chat in chats]
        assert received == [[f"Alert #{n}"] for n in range(500)]
        floods = [a for a in server.attempts if a.status == 429]
        assert len(floods) >= 4
        assert server.early_sends() == []


async def test_stop_does_not_wait_out_a_long_flood(server: BotApiServer, host: RecordingHost, ann: TgUser) -> None:
    from tests.transports.conftest_telegram import telegram_settings

    transport = TelegramTransport(telegram_settings(server), host)
    await transport.start()
    chat = server.private_chat(ann)
    server.inject(Fault.flood(600), chat=chat)
    server.user_sends(chat, ann, "/list")
    await server.wait_for(lambda: any(a.status == 429 for a in server.attempts), what="the flood answer")
    bob = server.add_user(8, "Bob")
    server.user_sends(server.private_chat(bob), bob, "/list")  # its reply now waits at the flood gate
    await server.wait_for(lambda: len(host.commands) == 2, what="the second command")
    # A hang guard, not a timing assertion: without the stop signal this would take ten minutes.
    await asyncio.wait_for(transport.stop(), timeout=120)
    assert server.bot_messages(chat) == [] and server.bot_messages(bob.id) == []
