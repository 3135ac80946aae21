"""The Matrix transport's pure parts: message rendering, command parsing, error mapping (no homeserver)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nio import ErrorResponse

from bot.core.messaging import Button, ChatGone, Image, OutgoingMessage, RetryLater, TransientError, html_to_text
from bot.transports.matrix import (
    ThreadRef,
    file_event,
    image_content,
    inviter_allowed,
    message_content,
    parse_command,
    parse_mxc,
    power_level_of,
    reply_target,
    send_error_for,
    strip_reply_fallback,
    thread_root,
    transaction_id,
)


def test_plain_body_strips_tags_unescapes_and_spells_out_links() -> None:
    html = '<b>Gipfel</b> &amp; <i>Treffen</i>: <a href="https://ex.org/a?x=1&amp;y=2">mehr</a>\n• <code>a&lt;b</code>'
    assert html_to_text(html) == "Gipfel & Treffen: mehr (https://ex.org/a?x=1&y=2)\n• a<b"


def test_a_link_whose_text_is_its_url_is_not_repeated() -> None:
    assert html_to_text('<a href="https://ex.org">https://ex.org</a>') == "https://ex.org"


def test_content_is_a_notice_with_html_and_plain_bodies_and_buttons_as_hints() -> None:
    message = OutgoingMessage(
        "1. <b>Putin</b>\n2. <b>Kim</b>",
        buttons=((Button("❌ Putin", "unsubscribe 1"), Button("❌ Kim & Co", "unsubscribe 2")),),
    )
    content = message_content(message)
    assert content["msgtype"] == "m.notice"
    assert content["format"] == "org.matrix.custom.html"
    assert content["formatted_body"].startswith("1. <b>Putin</b><br>\n2. <b>Kim</b><br>\n↳ ")
    assert "<code>!unsubscribe 2</code> ❌ Kim &amp; Co" in content["formatted_body"]
    assert content["body"] == "1. Putin\n2. Kim\n↳ !unsubscribe 1 ❌ Putin · !unsubscribe 2 ❌ Kim & Co"


def test_a_button_label_that_repeats_its_command_is_not_shown_twice() -> None:
    button = Button("Kim Jong-un", "subscribe Kim Jong-un")
    content = message_content(OutgoingMessage("Pick one:", buttons=((button,),)))
    assert content["body"] == "Pick one:\n↳ !subscribe Kim Jong-un"


def test_transaction_id_is_stable_per_key_and_absent_without_one() -> None:
    assert transaction_id("outbox:1,2") == transaction_id("outbox:1,2")
    assert transaction_id("outbox:1,2") != transaction_id("outbox:1,3")
    assert transaction_id(None) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("!subscribe Putin", ("subscribe", "Putin")),
        ("  !Subscribe   arms deal ", ("subscribe", "arms deal")),
        ("!list", ("list", "")),
        ("!addseed\n", ("addseed", "")),
        ("hello !subscribe", None),
        ("!", None),
        ("!! wow", None),
        ("subscribe Putin", None),
    ],
)
def test_parse_command(body: str, expected: tuple[str, str] | None) -> None:
    assert parse_command(body) == expected


def test_reply_fallback_is_removed_before_parsing() -> None:
    body = "> <@admin:localhost> sent a file.\n> more quote\n\n!addseed"
    assert parse_command(strip_reply_fallback(body)) == ("addseed", "")


@given(st.text())
def test_parsing_any_text_never_raises(body: str) -> None:
    parse_command(strip_reply_fallback(body))
    html_to_text(body)


def test_inviter_rules() -> None:
    assert inviter_allowed("@anyone:evil.org", [])
    assert inviter_allowed("@ed:newsroom.org", [":newsroom.org"])
    assert inviter_allowed("@ed:newsroom.org", ["newsroom.org"])
    assert not inviter_allowed("@ed:notnewsroom.org", [":newsroom.org"])
    assert inviter_allowed("@boss:other.org", ["@boss:other.org", ":newsroom.org"])
    assert not inviter_allowed("@boss2:other.org", ["@boss:other.org"])


def test_power_levels_default_and_explicit() -> None:
    content = {"users": {"@mod:x": 50, "@odd:x": "high"}, "users_default": 10}
    assert power_level_of(content, "@mod:x") == 50
    assert power_level_of(content, "@someone:x") == 10
    assert power_level_of(content, "@odd:x") == 0
    assert power_level_of({}, "@someone:x") == 0


def test_send_errors_map_to_the_delivery_vocabulary() -> None:
    limited = send_error_for(ErrorResponse("slow down", "M_LIMIT_EXCEEDED", retry_after_ms=2500))
    assert isinstance(limited, RetryLater)
    assert limited.seconds == 2.5
    assert isinstance(send_error_for(ErrorResponse("not in room", "M_FORBIDDEN")), ChatGone)
    assert isinstance(send_error_for(ErrorResponse("boom", "M_UNKNOWN")), TransientError)
    assert isinstance(send_error_for(ErrorResponse("unknown error")), TransientError)


def test_mxc_uris() -> None:
    assert parse_mxc("mxc://localhost/AbC123") == ("localhost", "AbC123")
    with pytest.raises(ValueError, match="not a Matrix content URI"):
        parse_mxc("https://localhost/AbC123")


def test_thread_relations_are_read_and_written() -> None:
    in_thread = {"m.relates_to": {"rel_type": "m.thread", "event_id": "$root", "is_falling_back": True,
                                  "m.in_reply_to": {"event_id": "$latest"}}}
    assert thread_root(in_thread) == "$root"
    assert reply_target(in_thread) is None  # the fallback reply is not a reply to a file
    real_reply = {"m.relates_to": {"rel_type": "m.thread", "event_id": "$root", "is_falling_back": False,
                                   "m.in_reply_to": {"event_id": "$file"}}}
    assert reply_target(real_reply) == "$file"
    assert thread_root({"m.relates_to": {"m.in_reply_to": {"event_id": "$x"}}}) is None
    assert thread_root({"m.relates_to": "garbage"}) is None

    content = message_content(OutgoingMessage("hi"), ThreadRef("$root", "$command"))
    assert content["m.relates_to"] == {
        "rel_type": "m.thread",
        "event_id": "$root",
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": "$command"},
    }
    assert "m.relates_to" not in message_content(OutgoingMessage("hi"))


def test_image_content_carries_info_caption_and_url_or_encrypted_file() -> None:
    image = Image(b"png", width=1200, height=675)
    plain = image_content(OutgoingMessage("<b>Putin</b> trend"), image, 3, url="mxc://hs/abc")
    assert plain["msgtype"] == "m.image"
    assert plain["info"] == {"w": 1200, "h": 675, "size": 3, "mimetype": "image/png"}
    assert (plain["body"], plain["filename"], plain["url"]) == ("Putin trend", "chart.png", "mxc://hs/abc")
    assert "file" not in plain
    secret = {"url": "mxc://hs/enc", "key": {"k": "..."}, "iv": "...", "hashes": {"sha256": "..."}, "v": "v2"}
    encrypted = image_content(OutgoingMessage(""), image, 3, file=secret)
    assert encrypted["file"] == secret and "url" not in encrypted
    assert encrypted["body"] == "chart.png"  # no caption: the file name, as clients expect


def test_encrypted_file_events_offer_their_keys() -> None:
    source = {
        "event_id": "$f",
        "sender": "@admin:x",
        "content": {
            "msgtype": "m.file",
            "body": "seed.txt",
            "file": {"url": "mxc://hs/f", "key": {"k": "KEY"}, "iv": "IV", "hashes": {"sha256": "HASH"}, "v": "v2"},
            "info": {"size": 10, "mimetype": "text/plain"},
        },
    }
    offered = file_event(source)
    assert offered is not None and offered.url == "mxc://hs/f"
    assert (offered.keys.key, offered.keys.iv, offered.keys.sha256) == ("KEY", "IV", "HASH")  # type: ignore[union-attr]
    source["content"]["file"] = {"url": "mxc://hs/f"}  # type: ignore[index]
    assert file_event(source) is None  # without its keys it could never be read
