"""Pure Matrix helpers: event content for outgoing messages, command parsing, threads, error mapping.

Nothing here talks to the homeserver, so all of it is tested without one.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from typing import Any

from nio import ErrorResponse

from bot.core.messaging import (
    Button,
    ChatGone,
    Image,
    OutgoingMessage,
    RetryLater,
    SendError,
    TransientError,
    html_to_text,
)

PLATFORM = "matrix"
COMMAND_PREFIX = "!"
# An event may be 64 KiB and carries the text twice (body and formatted_body); nio's JSON escapes every
# non-ASCII character as a six-byte \u escape, so 4,000 characters stay under the limit in any script.
MAX_MESSAGE_CHARS = 4_000

_MXC = re.compile(r"^mxc://([^/]+)/([^/?#]+)$")


@dataclass(frozen=True, slots=True)
class ThreadRef:
    """Where a reply goes inside a room: the thread's root event and the command it answers."""

    root_event_id: str
    reply_to_event_id: str


def render_buttons(buttons: tuple[tuple[Button, ...], ...]) -> str:
    """Matrix has no buttons: each row becomes a line of commands the user can type instead."""
    lines = []
    for row in buttons:
        hints = [_button_hint(button) for button in row]
        if hints:
            lines.append("↳ " + " · ".join(hints))
    return "\n".join(lines)


def _button_hint(button: Button) -> str:
    hint = f"<code>{COMMAND_PREFIX}{html.escape(button.command)}</code>"
    label = button.label.strip()
    # "Kim Jong-un" for "subscribe Kim Jong-un" would only repeat the command
    if label and label.casefold() not in button.command.casefold():
        hint += " " + html.escape(label)
    return hint


def _text_fields(message: OutgoingMessage) -> dict[str, Any]:
    text = message.html
    hints = render_buttons(message.buttons)
    if hints:
        text = f"{text}\n{hints}" if text else hints
    return {
        "body": html_to_text(text),
        "format": "org.matrix.custom.html",
        # HTML collapses newlines; the safe subset relies on them as line breaks.
        "formatted_body": text.replace("\n", "<br>\n"),
    }


def message_content(message: OutgoingMessage, thread: ThreadRef | None = None) -> dict[str, Any]:
    """The ``m.room.message`` content of one outgoing text message (an ``m.notice``: bots must not
    trigger other bots)."""
    return with_thread({"msgtype": "m.notice", **_text_fields(message)}, thread)


def image_content(
    message: OutgoingMessage, image: Image, size: int, *, url: str | None = None, file: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An ``m.image`` with the message's text as its caption (Matrix 1.10: ``body`` differs from
    ``filename``); ``url`` in plain rooms, the encrypted ``file`` object in encrypted ones."""
    content: dict[str, Any] = {
        "msgtype": "m.image",
        "filename": image.filename,
        **_text_fields(message),
        "info": {"w": image.width, "h": image.height, "size": size, "mimetype": image.mime_type},
    }
    if not content["body"]:
        content["body"] = image.filename
    if file is not None:
        content["file"] = file
    else:
        content["url"] = url
    return content


def with_thread(content: dict[str, Any], thread: ThreadRef | None) -> dict[str, Any]:
    """Put a reply into a thread; ``is_falling_back`` lets clients without threads show a plain reply."""
    if thread is None:
        return content
    relation = {
        "rel_type": "m.thread",
        "event_id": thread.root_event_id,
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": thread.reply_to_event_id},
    }
    return {**content, "m.relates_to": relation}


def thread_root(content: dict[str, Any]) -> str | None:
    """The root event of the thread a message was sent in, or None outside threads."""
    relates = content.get("m.relates_to")
    if not isinstance(relates, dict) or relates.get("rel_type") != "m.thread":
        return None
    root = relates.get("event_id")
    return root if isinstance(root, str) and root else None


def reply_target(content: dict[str, Any]) -> str | None:
    """The event a message replies to; in a thread only a real reply counts, not the fallback."""
    relates = content.get("m.relates_to") or {}
    if not isinstance(relates, dict) or relates.get("is_falling_back") is True:
        return None
    in_reply_to = relates.get("m.in_reply_to") or {}
    event_id = in_reply_to.get("event_id") if isinstance(in_reply_to, dict) else None
    return event_id if isinstance(event_id, str) else None


def transaction_id(idempotency_key: str | None) -> str | None:
    """A stable transaction id for a key (the homeserver deduplicates per access token), else None."""
    if not idempotency_key:
        return None
    return "newsalert-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


def strip_reply_fallback(body: str) -> str:
    """Drop the quoted "> <@user> …" block clients put in front of a reply's body."""
    lines = body.splitlines()
    if not lines or not lines[0].startswith(">"):
        return body
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    return "\n".join(lines[index:]).strip()


def parse_command(body: str) -> tuple[str, str] | None:
    """``"!subscribe Putin"`` → ``("subscribe", "Putin")``; anything else → None."""
    text = body.strip()
    if not text.startswith(COMMAND_PREFIX):
        return None
    parts = text[len(COMMAND_PREFIX) :].split(None, 1)  # any whitespace: space, tab, newline
    if not parts:
        return None
    name, rest = parts[0].lower(), (parts[1] if len(parts) > 1 else "")
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        return None
    return name, rest.strip()


def send_error_for(response: ErrorResponse) -> SendError:
    """Map a homeserver error to the delivery service's vocabulary."""
    code = response.status_code
    detail = str(response)
    if code == "M_LIMIT_EXCEEDED":
        return RetryLater((response.retry_after_ms or 1000) / 1000, detail)
    if code in ("M_FORBIDDEN", "M_NOT_FOUND"):
        # not in the room (left, kicked, banned) or the room is gone: the chat cannot be reached any more
        return ChatGone(detail)
    if code in ("M_TOO_LARGE", "M_BAD_JSON", "M_NOT_JSON", "M_INVALID_PARAM"):
        return SendError(detail)  # this message will never be accepted: not worth retrying forever
    return TransientError(detail)


def parse_mxc(uri: str) -> tuple[str, str]:
    match = _MXC.match(uri.strip())
    if not match:
        raise ValueError(f"not a Matrix content URI: {uri!r}")
    return match.group(1), match.group(2)
