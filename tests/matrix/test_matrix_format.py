"""The Matrix transport's pure parts: message rendering, command parsing, error mapping (no homeserver)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nio import ErrorResponse

from bot.core.messaging import Button, ChatGone, OutgoingMessage, RetryLater, TransientError, html_to_text
from bot.transports.matrix import (
    inviter_allowed,
    message_content,
    parse_command,
    parse_mxc,
    power_level_of,
    send_error_for,
    strip_reply_fallback,
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
