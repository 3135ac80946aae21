"""Matrix transport: matrix-nio's ``AsyncClient`` against any homeserver.

Receiving is a hand-written sync loop rather than ``sync_forever`` because the loop owns three promises:
the sync token is stored only after a batch was handled (a restart resumes where it stopped and never
replays old commands), the very first sync of a fresh account is read but not executed, and network trouble
or a restarting homeserver is met with backoff instead of an exception.

Sending uses ``m.notice`` (bots must not trigger other bots) with an HTML ``formatted_body`` and a plain
``body``. The transaction id comes from the message's idempotency key, so a resend after a crash is
deduplicated by the homeserver; that only works with the same access token, which is why the token and the
device id are kept in the application's durable state.

End-to-end encryption is not supported: an encrypted room gets one clear notice instead of silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import logging
import random
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import ClientError
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    InviteMemberEvent,
    JoinedMembersResponse,
    LoginResponse,
    RoomGetEventResponse,
    RoomGetStateEventResponse,
    RoomSendResponse,
    SyncResponse,
    WhoamiResponse,
)

from bot.core.messaging import (
    Attachment,
    Button,
    ChatGone,
    IncomingCommand,
    OutgoingMessage,
    Reply,
    RetryLater,
    SendError,
    Sent,
    TransientError,
    html_to_text,
)
from bot.core.models import ChatKey
from bot.transports.base import TransportHost, TransportStartError
from config.settings import MatrixSettings

log = logging.getLogger(__name__)

PLATFORM = "matrix"
COMMAND_PREFIX = "!"
# A Matrix event may be at most 64 KiB of JSON and carries the text twice (body + formatted_body); 12,000
# characters stay below that even for scripts that need three UTF-8 bytes per character.
# An event may be 64 KiB and carries the text twice (body and formatted_body); nio's JSON escapes every
# non-ASCII character as a six-byte \u escape, so 4,000 characters stay under the limit in any script.
MAX_MESSAGE_CHARS = 4_000
MANAGER_POWER_LEVEL = 50

STATE_USER_ID = "matrix.user_id"
STATE_DEVICE_ID = "matrix.device_id"
STATE_ACCESS_TOKEN = "matrix.access_token"
STATE_NEXT_BATCH = "matrix.next_batch"
STATE_E2E_NOTICE = "matrix.e2e_notice:"  # + room id: the room got its "encryption unsupported" notice

E2E_NOTICE_HTML = (
    "<b>This room is end-to-end encrypted.</b> This bot cannot read encrypted messages yet, so it will not "
    "see your commands here. Please talk to it in an unencrypted room or direct chat."
)

# Legacy rooms (versions 1–11) give their creator no special rights; from version 12 on, creators outrank
# every power level and are not listed in the power-levels event at all.
_LEGACY_ROOM_VERSIONS = frozenset(str(v) for v in range(1, 12))
_REQUEST_SLACK_S = 30.0  # on top of the long-poll timeout before a sync request counts as hung
_REPLY_SEND_ATTEMPTS = 3
_MAX_REPLY_WAIT_S = 30.0
_FILE_CACHE_SIZE = 256
_MXC = re.compile(r"^mxc://([^/]+)/([^/?#]+)$")
_SLASH_COMMAND = re.compile(r"(^|[\s>(])/([a-z][a-z_]*)\b")


class MatrixLoginError(TransportStartError):
    """The homeserver rejected the configured credentials; retrying will not help."""


# --- pure helpers -------------------------------------------------------------------------------------------


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


def matrix_command_syntax(text: str, is_command: Callable[[str], bool]) -> str:
    """Handlers write commands Telegram-style (``/list``); on Matrix they are typed ``!list``.

    Only a known command name right after a space, a tag or a bracket is rewritten, so URLs and paths keep
    their slashes.
    """

    def swap(match: re.Match[str]) -> str:
        lead, name = match.group(1), match.group(2)
        return f"{lead}{COMMAND_PREFIX}{name}" if is_command(name) else match.group(0)

    return _SLASH_COMMAND.sub(swap, text)


def message_content(message: OutgoingMessage, is_command: Callable[[str], bool] | None = None) -> dict[str, Any]:
    """The ``m.room.message`` content of one outgoing message."""
    text = matrix_command_syntax(message.html, is_command) if is_command else message.html
    hints = render_buttons(message.buttons)
    if hints:
        text = f"{text}\n{hints}" if text else hints
    return {
        "msgtype": "m.notice",
        "body": html_to_text(text),
        "format": "org.matrix.custom.html",
        # HTML collapses newlines; the safe subset relies on them as line breaks.
        "formatted_body": text.replace("\n", "<br>\n"),
    }


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


def inviter_allowed(inviter: str, allowed: Iterable[str]) -> bool:
    """Empty list: anyone. Otherwise an exact user id (``@a:b``) or a server (``:b`` or ``b``)."""
    entries = [entry.strip() for entry in allowed if entry.strip()]
    if not entries:
        return True
    for entry in entries:
        if entry.startswith("@"):
            if inviter == entry:
                return True
        elif inviter.endswith(":" + entry.lstrip(":")):
            return True
    return False


def power_level_of(content: dict[str, Any], user_id: str) -> int:
    users = content.get("users") or {}
    level = users.get(user_id, content.get("users_default", 0))
    try:
        return int(level)
    except (TypeError, ValueError):
        return 0


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


# --- sending ------------------------------------------------------------------------------------------------


class MatrixMessenger:
    """Sends to rooms through the transport's logged-in client."""

    platform = PLATFORM
    max_message_chars = MAX_MESSAGE_CHARS
    command_prefix = "!"

    def __init__(self, client: AsyncClient, is_command: Callable[[str], bool] | None = None) -> None:
        self._client = client
        self._is_command = is_command
        self._closed = False

    def close(self) -> None:
        """Refuse further sends: nio would quietly open a new HTTP session that nobody closes."""
        self._closed = True

    async def send(self, chat_id: str, message: OutgoingMessage) -> Sent:
        if self._closed:
            raise TransientError("the Matrix transport is stopped")
        if not self._client.access_token:
            raise TransientError("not logged in to the homeserver yet")
        try:
            response = await self._client.room_send(
                chat_id,
                "m.room.message",
                message_content(message, self._is_command),
                tx_id=transaction_id(message.idempotency_key),
            )
        except (ClientError, OSError, TimeoutError) as exc:
            raise TransientError(f"homeserver unreachable: {exc!r}") from exc
        if isinstance(response, RoomSendResponse):
            return Sent((response.event_id,))
        if isinstance(response, ErrorResponse):
            raise send_error_for(response)
        raise TransientError(f"unexpected answer from the homeserver: {response!r}")


# --- receiving ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _FileEvent:
    event_id: str
    sender: str
    filename: str
    size: int | None
    mime_type: str | None
    url: str


def _file_event(source: dict[str, Any]) -> _FileEvent | None:
    content = source.get("content") or {}
    url = content.get("url")
    if content.get("msgtype") != "m.file" or not isinstance(url, str):
        return None  # encrypted files carry "file" instead of "url" and cannot be read anyway
    info = content.get("info") or {}
    size = info.get("size")
    return _FileEvent(
        event_id=str(source.get("event_id", "")),
        sender=str(source.get("sender", "")),
        filename=str(content.get("filename") or content.get("body") or "upload"),
        size=size if isinstance(size, int) and size >= 0 else None,
        mime_type=info.get("mimetype") if isinstance(info.get("mimetype"), str) else None,
        url=url,
    )


def _is_own_join(source: dict[str, Any], user_id: str) -> bool:
    content = source.get("content") or {}
    return (
        source.get("type") == "m.room.member"
        and source.get("state_key") == user_id
        and content.get("membership") == "join"
    )


def _reply_target(content: dict[str, Any]) -> str | None:
    relates = content.get("m.relates_to") or {}
    in_reply_to = relates.get("m.in_reply_to") or {}
    event_id = in_reply_to.get("event_id")
    return event_id if isinstance(event_id, str) else None


class MatrixTransport:
    """Receives ``!commands`` from rooms and DMs and answers them; see the module docstring."""

    def __init__(
        self,
        settings: MatrixSettings,
        host: TransportHost,
        *,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
    ) -> None:
        if not settings.enabled or not settings.homeserver or not settings.user_id:
            raise ValueError("Matrix needs a homeserver, a user id and a password or access token")
        self._settings = settings
        self._host = host
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._user_id = settings.user_id
        self._client = AsyncClient(
            settings.homeserver.rstrip("/"),
            settings.user_id,
            config=AsyncClientConfig(
                # nio would otherwise retry forever inside a single call; we want the error to decide.
                max_limit_exceeded=0,
                max_timeouts=0,
                request_timeout=60,
                encryption_enabled=False,
            ),
        )
        self.messenger = MatrixMessenger(self._client, self._is_command)
        self._command_names: frozenset[str] | None = None
        self._next_batch: str | None = None
        self._logged_in = False
        self._stopping = asyncio.Event()
        self._first_sync = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_file: dict[tuple[str, str], _FileEvent] = {}  # (room, sender) → their latest file
        self._files: OrderedDict[str, _FileEvent] = OrderedDict()  # event id → file, for replies
        self._declined_invites: set[str] = set()
        self._e2e_notified: set[str] = set()

    # -- lifecycle -------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, do the first sync, then keep syncing in the background.

        Wrong credentials raise :class:`MatrixLoginError`; an unreachable homeserver does not stop the
        start: the background loop keeps trying with backoff.
        """
        try:
            await self._login()
        except (ClientError, OSError, TimeoutError) as exc:
            log.warning("matrix: %s unreachable (%r); will keep trying", self._settings.homeserver, exc)
        self._task = asyncio.create_task(self._run(), name="matrix-sync")
        if self._logged_in:
            first_sync = asyncio.ensure_future(self._first_sync.wait())
            await asyncio.wait({first_sync, self._task}, return_when=asyncio.FIRST_COMPLETED)
            first_sync.cancel()
            if self._task.done():
                self._task.result()  # surfaces the error that ended the loop

    async def stop(self) -> None:
        """Finish the batch being handled (so its sync token is stored), then close the connection."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=60)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            except Exception:
                log.exception("matrix: sync loop ended with an error")
        self.messenger.close()
        await self._client.close()

    def _is_command(self, name: str) -> bool:
        if self._command_names is None:
            self._command_names = frozenset(command for command, _ in self._host.command_names("en"))
        # admin commands are not in the public menu, but they are the ones that need rights
        return name in self._command_names or self._host.requires_chat_admin(name)

    @property
    def synced(self) -> bool:
        """True once the first sync of this run is done (commands sent from now on will be answered)."""
        return self._first_sync.is_set()

    # -- login -----------------------------------------------------------------------------------------------

    async def _stored(self, key: str) -> str | None:
        return (await self._host.get_state(key)) or None

    async def _login(self) -> None:
        # State written by another account (the configured user changed) must not be reused.
        same_user = await self._stored(STATE_USER_ID) == self._user_id
        self._next_batch = await self._stored(STATE_NEXT_BATCH) if same_user else None
        stored_device = await self._stored(STATE_DEVICE_ID) if same_user else None
        configured = self._settings.access_token.get_secret_value() if self._settings.access_token else None
        stored_token = await self._stored(STATE_ACCESS_TOKEN) if same_user else None
        for token in (configured, stored_token if not configured else None):
            if token and await self._adopt_token(token, stored_device):
                await self._remember_login()
                return
        if configured:
            raise MatrixLoginError(f"the homeserver rejected the access token configured for {self._user_id}")
        await self._password_login(stored_device)
        await self._remember_login()

    async def _adopt_token(self, token: str, device_id: str | None) -> bool:
        self._client.restore_login(self._user_id, device_id or "", token)
        answer = await self._client.whoami()
        if isinstance(answer, WhoamiResponse):
            if answer.user_id != self._user_id:
                raise MatrixLoginError(f"the access token belongs to {answer.user_id}, not {self._user_id}")
            self._client.device_id = answer.device_id or device_id or ""
            self._logged_in = True
            return True
        if isinstance(answer, ErrorResponse) and answer.status_code in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
            self._client.access_token = ""
            return False
        raise ClientError(f"whoami failed: {answer}")

    async def _password_login(self, device_id: str | None) -> None:
        if self._settings.password is None:
            raise MatrixLoginError(f"no password configured for {self._user_id} and no usable access token")
        # Reusing the stored device keeps the bot from piling up devices on its account.
        self._client.device_id = device_id or ""
        self._client.user = self._user_id
        password = self._settings.password.get_secret_value()
        answer = await self._client.login(password, self._settings.device_name)
        if isinstance(answer, LoginResponse):
            self._logged_in = True
            log.info("matrix: logged in as %s (device %s)", answer.user_id, answer.device_id)
            return
        if isinstance(answer, ErrorResponse) and answer.status_code in ("M_FORBIDDEN", "M_USER_DEACTIVATED"):
            raise MatrixLoginError(f"login as {self._user_id} failed: {answer.message}")
        raise ClientError(f"login failed: {answer}")

    async def _remember_login(self) -> None:
        await self._host.set_state(STATE_USER_ID, self._user_id)
        await self._host.set_state(STATE_DEVICE_ID, self._client.device_id or "")
        await self._host.set_state(STATE_ACCESS_TOKEN, self._client.access_token)

    # -- the sync loop ---------------------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = self._backoff_initial_s
        while not self._stopping.is_set():
            try:
                if not self._logged_in:
                    await self._login()
                await self._sync_once()
                backoff = self._backoff_initial_s
                continue
            except MatrixLoginError:
                log.exception("matrix: login refused; Matrix stays offline until the settings are fixed")
                raise
            except _Stopping:
                return
            except (ClientError, OSError, TimeoutError, _SyncFailed) as exc:
                log.warning("matrix: sync failed (%s); retrying in %.1fs", exc, backoff)
            except Exception:
                log.exception("matrix: unexpected error in the sync loop; retrying in %.1fs", backoff)
            await self._pause(backoff)
            backoff = min(self._backoff_max_s, backoff * 2) * random.uniform(0.9, 1.1)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _sync_once(self) -> None:
        first_of_run = not self._first_sync.is_set()
        fresh_account = self._next_batch is None
        timeout_ms = 0 if first_of_run else self._settings.sync_timeout_ms
        # The first sync of each run asks for the full room state: nio keeps room members and encryption
        # state in memory only, and after a restart would otherwise know nothing about quiet rooms.
        request = self._client.sync(
            timeout=timeout_ms,
            since=self._next_batch,
            full_state=first_of_run,
            sync_filter=_initial_filter() if fresh_account else _SYNC_FILTER,
        )
        response = await self._until_stopped(request, timeout_ms / 1000 + _REQUEST_SLACK_S)
        if isinstance(response, ErrorResponse):
            if response.status_code in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
                self._logged_in = False  # token revoked: log in again (password) or give up (token)
            raise _SyncFailed(str(response))
        if not isinstance(response, SyncResponse):
            raise _SyncFailed(f"unexpected sync answer {response!r}")
        # On a brand-new account the first batch is history: join pending invites, execute nothing.
        await self._handle_sync(response, execute=not fresh_account)
        self._next_batch = response.next_batch
        await self._host.set_state(STATE_NEXT_BATCH, response.next_batch)
        self._first_sync.set()

    async def _until_stopped(self, request: Awaitable[Any], limit_s: float) -> Any:
        """Await a request unless :meth:`stop` is called first (a long poll must not delay shutdown)."""
        request_task = asyncio.ensure_future(request)
        stop_task = asyncio.ensure_future(self._stopping.wait())
        try:
            done, _ = await asyncio.wait(
                {request_task, stop_task}, timeout=limit_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stop_task.cancel()
        if request_task in done:
            return request_task.result()
        request_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await request_task
        if self._stopping.is_set():
            raise _Stopping
        raise TimeoutError(f"sync request gave no answer within {limit_s:.0f}s")

    async def _handle_sync(self, response: SyncResponse, *, execute: bool) -> None:
        for room_id, invite in response.rooms.invite.items():
            await self._on_invite(room_id, invite.invite_state)
        for room_id in response.rooms.leave:
            if room_id in self._declined_invites:
                self._declined_invites.discard(room_id)
                continue
            log.info("matrix: no longer in %s", room_id)
            await self._host.chat_gone(ChatKey(PLATFORM, room_id))
        if not execute:
            return
        for room_id, room_info in response.rooms.join.items():
            if room_info.timeline.limited:
                # a long outage: the homeserver only sent the newest events; older commands are lost
                log.warning("matrix: %s had more new events than one sync returns; older ones skipped", room_id)
            await self._on_room_events(room_id, room_info.timeline.events)

    # -- invites ---------------------------------------------------------------------------------------------

    async def _on_invite(self, room_id: str, invite_state: list[Any]) -> None:
        inviter = self._inviter(invite_state)
        if not self._settings.auto_join:
            log.info("matrix: invite to %s from %s left pending (auto-join is off)", room_id, inviter)
            return
        if inviter is None or not inviter_allowed(inviter, self._settings.allowed_inviters):
            log.info("matrix: declining invite to %s from %s (not an allowed inviter)", room_id, inviter)
            self._declined_invites.add(room_id)
            await self._client.room_leave(room_id)
            return
        answer = await self._client.join(room_id)
        if isinstance(answer, ErrorResponse):
            log.warning("matrix: could not join %s: %s", room_id, answer)
        else:
            log.info("matrix: joined %s on the invite of %s", room_id, inviter)

    def _inviter(self, invite_state: list[Any]) -> str | None:
        for event in invite_state:
            # nio moves the content of stripped invite events into attributes, so read those
            if (
                isinstance(event, InviteMemberEvent)
                and event.state_key == self._user_id
                and event.membership == "invite"
            ):
                return event.sender
        return None

    # -- room events -----------------------------------------------------------------------------------------

    async def _on_room_events(self, room_id: str, events: list[Any]) -> None:
        active = False  # someone spoke, or the bot just joined: a moment where a notice makes sense
        for event in events:
            source = getattr(event, "source", None)
            if not isinstance(source, dict):
                continue
            if source.get("sender") == self._user_id:
                active = active or _is_own_join(source, self._user_id)
                continue
            active = True
            try:
                await self._on_event(room_id, source)
            except Exception:
                # one bad event must not stop the room (or the sync token) from moving on
                log.exception("matrix: failed to handle event %s in %s", source.get("event_id"), room_id)
        room = self._client.rooms.get(room_id)
        if active and room is not None and room.encrypted:
            await self._notify_encrypted(room_id)

    async def _on_event(self, room_id: str, source: dict[str, Any]) -> None:
        kind = source.get("type")
        sender = str(source.get("sender", ""))
        if kind == "m.room.encrypted":
            await self._notify_encrypted(room_id)
            return
        if kind != "m.room.message":
            return
        content = source.get("content") or {}
        file_event = _file_event(source)
        if file_event is not None:
            self._remember_file(room_id, file_event)
            return
        # Only the very next message of the sender may claim their file.
        previous_file = self._last_file.pop((room_id, sender), None)
        if content.get("msgtype") != "m.text":
            return  # notices come from bots; images, emotes etc. are not commands
        parsed = parse_command(strip_reply_fallback(str(content.get("body", ""))))
        if parsed is None:
            return
        name, args = parsed
        replied_to = _reply_target(content)
        file_event = await self._file_for_reply(room_id, replied_to) if replied_to else previous_file
        await self._run_command(room_id, sender, name, args, file_event)

    def _remember_file(self, room_id: str, file_event: _FileEvent) -> None:
        self._last_file[(room_id, file_event.sender)] = file_event
        self._files[file_event.event_id] = file_event
        while len(self._files) > _FILE_CACHE_SIZE:
            self._files.popitem(last=False)

    async def _file_for_reply(self, room_id: str, event_id: str) -> _FileEvent | None:
        cached = self._files.get(event_id)
        if cached is not None:
            return cached
        answer = await self._client.room_get_event(room_id, event_id)  # e.g. a file sent before a restart
        if isinstance(answer, RoomGetEventResponse):
            source = getattr(answer.event, "source", None)
            return _file_event(source) if isinstance(source, dict) else None
        return None

    async def _run_command(
        self, room_id: str, sender: str, name: str, args: str, file_event: _FileEvent | None
    ) -> None:
        room = self._client.rooms.get(room_id)
        is_group = (room.joined_count if room is not None else await self._count_members(room_id)) > 2
        is_admin = sender in self._settings.admin_ids
        can_manage = True
        if is_group and not is_admin and self._host.requires_chat_admin(name):
            can_manage = await self._is_room_manager(room_id, sender)
        command = IncomingCommand(
            platform=PLATFORM,
            chat_id=room_id,
            user_id=sender,
            name=name,
            args=args,
            is_group=is_group,
            is_bot_admin=is_admin,
            can_manage_chat=can_manage,
            attachment=self._attachment(file_event) if file_event else None,
            chat_title=room.display_name if room is not None and is_group else None,
            command_prefix=MatrixMessenger.command_prefix,
        )
        reply = await self._host.handle(command)
        await self._send_reply(room_id, reply)

    async def _count_members(self, room_id: str) -> int:
        """Members of a room nio has no state for; unknown counts as a group, where rights are checked."""
        answer = await self._client.joined_members(room_id)
        return len(answer.members) if isinstance(answer, JoinedMembersResponse) else 3

    async def _is_room_manager(self, room_id: str, user_id: str) -> bool:
        """Power level ≥ 50, read fresh from the homeserver; unknown means no (fail closed)."""
        levels = await self._client.room_get_state_event(room_id, "m.room.power_levels")
        if isinstance(levels, RoomGetStateEventResponse):
            if power_level_of(levels.content, user_id) >= MANAGER_POWER_LEVEL:
                return True
        else:
            log.warning("matrix: could not read power levels of %s: %s", room_id, levels)
        return await self._is_room_creator(room_id, user_id)

    async def _is_room_creator(self, room_id: str, user_id: str) -> bool:
        # The event's sender is the creator, so ask for the whole event, not only its content.
        path = f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/state/m.room.create/?format=event"
        event = await self._get_json(path)
        if not event:
            return False
        content = event.get("content") or {}
        if str(content.get("room_version", "1")) in _LEGACY_ROOM_VERSIONS:
            return False
        creators = {event.get("sender"), *(content.get("additional_creators") or [])}
        return user_id in creators

    async def _get_json(self, path: str) -> dict[str, Any] | None:
        headers = {"Authorization": f"Bearer {self._client.access_token}"}
        response = await self._client.send("GET", path, headers=headers)
        try:
            if response.status != 200:
                log.warning("matrix: GET %s answered HTTP %s", path.split("?")[0], response.status)
                return None
            body = await response.json()
        finally:
            response.release()
        return body if isinstance(body, dict) else None

    def _attachment(self, file_event: _FileEvent) -> Attachment:
        return Attachment(
            filename=file_event.filename,
            size=file_event.size,
            mime_type=file_event.mime_type,
            fetch=self._fetcher(file_event.url),
        )

    def _fetcher(self, mxc: str) -> Callable[[], Awaitable[bytes]]:
        async def fetch() -> bytes:
            return await self._download(mxc)

        return fetch

    async def _download(self, mxc: str) -> bytes:
        """Download media, refusing more than ``max_upload_bytes`` (the announced size may lie).

        Raises ``ValueError`` (bad URI, too large) or ``ConnectionError`` (homeserver trouble), the two
        failures handlers turn into a message for the user.
        """
        try:
            return await self._download_checked(mxc)
        except (ClientError, TimeoutError) as exc:
            raise ConnectionError(f"the homeserver did not deliver the file: {exc!r}") from exc

    async def _download_checked(self, mxc: str) -> bytes:
        server, media_id = parse_mxc(mxc)
        limit = self._settings.max_upload_bytes
        tail = f"{quote(server, safe='')}/{quote(media_id, safe='')}"
        headers = {"Authorization": f"Bearer {self._client.access_token}"}
        # Authenticated media (Matrix 1.11) first; older homeservers only know the legacy endpoint.
        for path in (f"/_matrix/client/v1/media/download/{tail}", f"/_matrix/media/v3/download/{tail}"):
            response = await self._client.send("GET", path, headers=headers)
            try:
                if response.status == 404 and path.startswith("/_matrix/client/v1"):
                    continue
                if response.status != 200:
                    raise ConnectionError(f"download of {mxc} failed with HTTP {response.status}")
                data = await response.content.read(limit + 1)
                if len(data) > limit:
                    raise ValueError(f"the file is larger than the limit of {limit} bytes")
                return bytes(data)
            finally:
                response.release()
        raise ConnectionError(f"the homeserver has no media {mxc}")

    async def _send_reply(self, room_id: str, reply: Reply) -> None:
        for message in reply.messages:
            for attempt in range(1, _REPLY_SEND_ATTEMPTS + 1):
                try:
                    await self.messenger.send(room_id, message)
                    break
                except RetryLater as exc:
                    if attempt == _REPLY_SEND_ATTEMPTS:
                        log.warning("matrix: reply to %s dropped after rate limiting", room_id)
                        return
                    await asyncio.sleep(min(exc.seconds, _MAX_REPLY_WAIT_S))
                except ChatGone:
                    await self._host.chat_gone(ChatKey(PLATFORM, room_id))
                    return
                except SendError as exc:
                    log.warning("matrix: reply to %s failed: %s", room_id, exc)
                    return

    async def _notify_encrypted(self, room_id: str) -> None:
        if room_id in self._e2e_notified:
            return
        self._e2e_notified.add(room_id)
        if await self._host.get_state(STATE_E2E_NOTICE + room_id):
            return
        try:
            await self.messenger.send(room_id, OutgoingMessage(E2E_NOTICE_HTML))
        except SendError as exc:
            self._e2e_notified.discard(room_id)  # try again on the room's next event
            log.warning("matrix: could not tell %s that encryption is unsupported: %s", room_id, exc)
            return
        await self._host.set_state(STATE_E2E_NOTICE + room_id, "1")


class _SyncFailed(Exception):
    """The homeserver answered the sync with an error."""


class _Stopping(Exception):
    """:meth:`MatrixTransport.stop` interrupted a request."""


# Presence and typing notifications are noise for a bot; leaving them out keeps every sync small.
_SYNC_FILTER: dict[str, Any] = {
    "presence": {"types": []},
    "account_data": {"types": []},
    "room": {"ephemeral": {"types": []}, "account_data": {"types": []}},
}


def _initial_filter() -> dict[str, Any]:
    """The first sync of a fresh account needs room state, not the history it will not execute."""
    return {**_SYNC_FILTER, "room": {**_SYNC_FILTER["room"], "timeline": {"limit": 1}}}
