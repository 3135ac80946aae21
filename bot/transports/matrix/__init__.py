"""Matrix transport (matrix-nio), one module per concern:

- ``formatting`` — event content, command parsing, threads, error mapping (pure);
- ``session`` — login, the durable device and token, what to do when the crypto store is lost;
- ``transport`` — lifecycle and the sync loop;
- ``receiving`` — room events to commands, replies (in the command's thread);
- ``sending`` — text and images, encrypted where the room is;
- ``rooms`` — invites and room rights;
- ``attachments`` — files for ``!addseed``, plain or encrypted;
- ``encryption`` / ``undecryptable`` / ``crosssigning`` — the crypto store, key upkeep, late keys, and
  signing the bot's own device.
"""

from bot.transports.matrix.attachments import FileEvent, file_event
from bot.transports.matrix.encryption import STATE_PICKLE_KEY, StoreLocked, store_file
from bot.transports.matrix.formatting import (
    COMMAND_PREFIX,
    MAX_MESSAGE_CHARS,
    PLATFORM,
    ThreadRef,
    image_content,
    message_content,
    parse_command,
    parse_mxc,
    render_buttons,
    reply_target,
    send_error_for,
    strip_reply_fallback,
    thread_root,
    transaction_id,
)
from bot.transports.matrix.receiving import STATE_E2E_NOTICE
from bot.transports.matrix.rooms import MANAGER_POWER_LEVEL, inviter_allowed, power_level_of
from bot.transports.matrix.sending import MatrixMessenger
from bot.transports.matrix.session import (
    STATE_ACCESS_TOKEN,
    STATE_DEVICE_ID,
    STATE_NEXT_BATCH,
    STATE_USER_ID,
    MatrixLoginError,
)
from bot.transports.matrix.transport import MatrixTransport

__all__ = [
    "COMMAND_PREFIX",
    "MANAGER_POWER_LEVEL",
    "MAX_MESSAGE_CHARS",
    "PLATFORM",
    "STATE_ACCESS_TOKEN",
    "STATE_DEVICE_ID",
    "STATE_E2E_NOTICE",
    "STATE_NEXT_BATCH",
    "STATE_PICKLE_KEY",
    "STATE_USER_ID",
    "FileEvent",
    "MatrixLoginError",
    "MatrixMessenger",
    "MatrixTransport",
    "StoreLocked",
    "ThreadRef",
    "file_event",
    "image_content",
    "inviter_allowed",
    "message_content",
    "parse_command",
    "parse_mxc",
    "power_level_of",
    "render_buttons",
    "reply_target",
    "send_error_for",
    "store_file",
    "strip_reply_fallback",
    "thread_root",
    "transaction_id",
]
