"""The console chat: the embedded default when no Telegram/Matrix credentials are set.

One command per line on stdin (``/subscribe Putin``, ``!list`` or just ``list``); replies and alerts go to
stdout, logs to stderr. The local user is admin; ``/addseed PATH`` ingests a local file. Pictures (trend
charts) are written to files in ``charts/`` beside the database and their path is printed with the caption.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.core.messaging import Attachment, Image, IncomingCommand, OutgoingMessage, Reply, Sent, html_to_text
from bot.transports.base import TransportHost

CHAT_ID = "local"
FILE_COMMANDS = {"addseed", "importopml"}  # in the console a file is given by its path
USER_ID = "console"


class ConsoleMessenger:
    platform = "console"
    max_message_chars = 100_000
    command_prefix = "/"

    def __init__(self, out: TextIO, charts_dir: Path | None = None) -> None:
        self._out = out
        self._count = 0
        self._charts_dir = charts_dir or Path("charts")

    async def send(self, chat_id: str, message: OutgoingMessage) -> Sent:
        await self.deliver(message)
        return Sent((str(self._count),))

    async def deliver(self, message: OutgoingMessage) -> None:
        """Write the message; a picture goes to a file (off the loop) whose path is printed first."""
        if message.image is None:
            self.write(message)
            return
        try:
            path = await asyncio.to_thread(self._save, message.image)
        except OSError as exc:
            self.write(message, f"[image not saved: {exc.strerror or exc}]")
            return
        self.write(message, f"[image {message.image.width}×{message.image.height}: {path}]")

    def _save(self, image: Image) -> Path:
        """A new file per picture in the charts folder, named by time and number, never overwritten."""
        self._charts_dir.mkdir(parents=True, exist_ok=True)
        stem, dot, suffix = image.filename.rpartition(".")
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        for attempt in range(1, 1000):
            name = f"{stem or image.filename}-{stamp}-{attempt}{dot}{suffix if stem else ''}"
            path = self._charts_dir / name
            try:
                with path.open("xb") as handle:
                    handle.write(image.data)
            except FileExistsError:
                continue
            return path.resolve()
        raise FileExistsError(f"no free file name in {self._charts_dir}")

    def write(self, message: OutgoingMessage, header: str = "") -> None:
        self._count += 1
        text = html_to_text(message.html)
        if header:
            text = f"{header}\n{text}"
        hints = [f"[{b.label}: /{b.command}]" for row in message.buttons for b in row]
        if hints:
            text += "\n" + "  ".join(hints)
        self._out.write(text.rstrip() + "\n\n")
        self._out.flush()


def parse_line(line: str) -> tuple[str, str] | None:
    """``/name args`` → (name, args); bare words work too. ``None`` for blank lines and comments."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if text[0] in "/!":
        text = text[1:]
    # Undecodable input arrives as lone surrogates; NUL bytes are never meant: neither reaches a handler.
    text = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    name, *rest = text.split(None, 1) or [""]
    return name.split("@", 1)[0].lower(), (rest[0].strip() if rest else "")


def local_attachment(path_text: str) -> Attachment:
    path = Path(path_text).expanduser()

    async def fetch() -> bytes:
        return await asyncio.to_thread(path.read_bytes)

    try:
        size: int | None = path.stat().st_size
    except OSError:
        size = None
    return Attachment(filename=path.name, size=size, mime_type=None, fetch=fetch)


class ConsoleTransport:
    def __init__(
        self,
        host: TransportHost,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        *,
        charts_dir: Path | None = None,
    ) -> None:
        self._host = host
        self._in = stdin or sys.stdin
        self.messenger = ConsoleMessenger(stdout or sys.stdout, charts_dir)

    async def start(self) -> None:
        """Nothing to connect; :meth:`run` reads the input."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    async def run(self) -> None:
        """Handle lines until end of input."""
        while True:
            line = await asyncio.to_thread(self._in.readline)
            if not line:
                return
            parsed = parse_line(line)
            if parsed is None:
                continue
            await self.handle(*parsed)

    async def handle(self, name: str, args: str) -> None:
        attachment = local_attachment(args) if name in FILE_COMMANDS and args else None
        command = IncomingCommand(
            platform="console",
            chat_id=CHAT_ID,
            user_id=USER_ID,
            name=name,
            args="" if attachment else args,
            is_bot_admin=True,
            can_manage_chat=True,
            attachment=attachment,
        )
        reply: Reply = await self._host.handle(command)
        for message in reply.messages:
            await self.messenger.deliver(message)
