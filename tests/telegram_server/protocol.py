"""The Bot API's vocabulary as the test server speaks it: errors, parameters as PTB sends them, and the
checks Telegram makes on texts, captions and keyboards."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.telegram_server.entities import EntityParseError, ParsedText, parse_html
from tests.telegram_server.models import Fault

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters or {}

    @classmethod
    def bad_request(cls, detail: str) -> ApiError:
        return cls(400, f"Bad Request: {detail}")

    @classmethod
    def from_fault(cls, fault: Fault) -> ApiError:
        return cls(fault.status, fault.description, dict(fault.parameters))


class Params:
    """Bot API parameters as PTB sends them: form fields holding JSON for objects, or a JSON body."""

    def __init__(self, values: dict[str, Any], files: dict[str, web.FileField]) -> None:
        self.values = values
        self.files = files

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        return default if value is None else str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError.bad_request(f"invalid {name} specified") from None

    def required_int(self, name: str) -> int:
        value = self.integer(name)
        if value is None:
            raise ApiError.bad_request(f"{name} is empty")
        return value

    def obj(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise ApiError.bad_request(f"can't parse {name} JSON object") from None
        return value

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)



def chat_id_or_none(params: Params) -> int | None:
    try:
        return params.integer("chat_id")
    except ApiError:
        return None


def parse_message_text(
    raw: str, parse_mode: str | None, limit: int, what: str, too_long: str, *, allow_empty: bool = False
) -> ParsedText:
    if parse_mode is None or parse_mode == "":
        parsed = ParsedText(raw)
    elif parse_mode.upper() == "HTML":
        try:
            parsed = parse_html(raw)
        except EntityParseError as exc:
            raise ApiError.bad_request(str(exc)) from None
    else:
        raise ApiError.bad_request(f"unsupported parse_mode {parse_mode!r} (the test server speaks HTML only)")
    if not allow_empty and not parsed.text.strip():
        raise ApiError.bad_request(f"{what} is empty")
    if len(parsed.text) > limit:
        raise ApiError.bad_request(too_long)
    return parsed


def validated_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError.bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError.bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for row in rows:
        for button in row:
            _validate_button(button)
    return markup


def _validate_button(button: Any) -> None:
    if not isinstance(button, dict) or not str(button.get("text", "")).strip():
        raise ApiError.bad_request("can't parse inline keyboard button: Text must be non-empty")
    actions = {"callback_data", "url", "switch_inline_query", "copy_text", "web_app", "login_url", "pay"}
    if not actions & button.keys():
        raise ApiError.bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        size = len(str(button["callback_data"]).encode("utf-8"))
        if not 1 <= size <= MAX_CALLBACK_DATA:
            raise ApiError.bad_request("BUTTON_DATA_INVALID")


def link_preview_disabled(params: Params) -> bool:
    options = params.obj("link_preview_options")
    if isinstance(options, dict) and "is_disabled" in options:
        return bool(options["is_disabled"])
    return params.flag("disable_web_page_preview")


def commands_key(params: Params) -> tuple[str, str]:
    scope = params.obj("scope")
    scope_type = scope.get("type", "default") if isinstance(scope, dict) else "default"
    return scope_type, params.text("language_code") or ""

