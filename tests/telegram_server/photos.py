"""Photos as the Bot API sees them: only real PNG or JPEG images are accepted, described by their size."""

from __future__ import annotations

import struct
from typing import Any

from tests.telegram_server.models import StoredFile
from tests.telegram_server.protocol import ApiError

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_START_OF_FRAME = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # the Bot API's limit for photos sent by upload


def image_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` of a PNG or JPEG; an :class:`ApiError` like Telegram's for anything else."""
    if data.startswith(_PNG_SIGNATURE) and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    raise ApiError.bad_request("IMAGE_PROCESS_FAILED")


def _jpeg_size(data: bytes) -> tuple[int, int]:
    pos = 2
    while pos + 9 <= len(data):
        if data[pos] != 0xFF:
            break
        marker = data[pos + 1]
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _JPEG_START_OF_FRAME:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    raise ApiError.bad_request("IMAGE_PROCESS_FAILED")


def photo_sizes(stored: StoredFile) -> list[dict[str, Any]]:
    """The ``photo`` array of a message: the server keeps the original only (real Telegram adds thumbnails)."""
    if len(stored.content) > MAX_PHOTO_BYTES:
        raise ApiError.bad_request("PHOTO_INVALID_DIMENSIONS")
    width, height = image_size(stored.content)
    if width <= 0 or height <= 0 or width + height > 10_000 or max(width, height) > 20 * min(width, height):
        raise ApiError.bad_request("PHOTO_INVALID_DIMENSIONS")
    return [
        {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": width,
            "height": height,
            "file_size": len(stored.content),
        }
    ]
