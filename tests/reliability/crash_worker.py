"""Subprocess for the crash test: a real application whose "platform" is an append-only log file.

    python -m tests.reliability.crash_worker fanout|resume DB LOG CHATS DEDUPE

``fanout`` subscribes CHATS chats and stores one matching article (the fan-out starts at once);
``resume`` restarts the application and waits until the outbox has nothing left to send.
With DEDUPE=1 the fake platform drops a message whose idempotency key it has already accepted, as a
Matrix homeserver does with a repeated transaction id.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bot.app import App, running_app
from bot.core.ingest import ParsedItem
from bot.core.messaging import OutgoingMessage, Sent
from bot.core.models import ArticleDraft, ChatKey
from config.settings import Settings

ARTICLE = ArticleDraft(
    title="Putin trifft Kim in Wladiwostok",
    body="Kremlchef Wladimir Putin und Machthaber Kim Jong-un haben sich in Wladiwostok getroffen. "
    "Es ging um einen Waffendeal, wie beide Seiten bestätigten.",
    lang="de",
)


@dataclass
class LogPlatform:
    """Accepts a message by appending one line (chat, key) to the log; that line is the platform's record."""

    path: Path
    dedupe: bool
    platform: str = "fake"
    max_message_chars: int = 4096
    command_prefix: str = "/"
    accepted: set[tuple[str, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                chat, key = line.split("\t")
                self.accepted.add((chat, key))
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    async def send(self, chat_id: str, message: OutgoingMessage) -> Sent:
        await asyncio.sleep(0.002)  # a network round trip, so the kill lands mid-fan-out
        key = (chat_id, message.idempotency_key or "")
        if self.dedupe and key in self.accepted:
            return Sent(("deduplicated",))
        os.write(self._fd, f"{chat_id}\t{key[1]}\n".encode())
        self.accepted.add(key)
        return Sent(("ok",))


async def subscribe_many(app: App, chats: int) -> None:
    now = app.services.clock.now()
    for n in range(chats):
        chat, _ = await app.storage.chats.get_or_create(ChatKey("fake", f"chat{n}"), now)
        sub = await app.storage.subscriptions.add(chat.id, "Putin", "putin", now)
        assert sub is not None
        app.pipeline.add(sub)


async def unsent(app: App) -> int:
    counts = await app.storage.outbox.status_counts()
    return sum(counts.get(status, 0) for status in ("pending", "sending", "failed"))


async def main(mode: str, db: str, log: str, chats: int, dedupe: bool) -> int:
    settings = Settings(db_path=Path(db), seeds_dir=Path(db).parent / "no-seeds", _env_file=None)  # type: ignore[call-arg]
    async with running_app(settings, load_seeds=False) as app:
        app.services.delivery.register(LogPlatform(Path(log), dedupe))
        if mode == "fanout":
            await subscribe_many(app, chats)
            await app.services.ingest.ingest_items([ParsedItem("crash-test", ARTICLE, "ok")])
            print("FANOUT STARTED", flush=True)
            await asyncio.Event().wait()  # until killed
        while await unsent(app):
            await app.services.delivery.run_due()
    return 0


if __name__ == "__main__":
    mode, db, log, chats, dedupe = sys.argv[1:6]
    sys.exit(asyncio.run(main(mode, db, log, int(chats), dedupe == "1")))
