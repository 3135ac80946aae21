"""A recording stand-in for the application, so the transport can be tested on its own."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.messaging import Button, IncomingCommand, Reply
from bot.core.models import ChatKey

MANAGING_COMMANDS = frozenset({"subscribe", "unsubscribe", "mode"})


@dataclass
class RecordingHost:
    state: dict[str, str] = field(default_factory=dict)
    commands: list[IncomingCommand] = field(default_factory=list)
    gone: list[ChatKey] = field(default_factory=list)
    fetched: list[bytes] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    async def handle(self, command: IncomingCommand) -> Reply:
        self.commands.append(command)
        if command.attachment is not None:
            try:
                data = await command.attachment.fetch()
            except ValueError as exc:
                self.refused.append(str(exc))
                return Reply.text(f"refused: {exc}")
            self.fetched.append(data)
            return Reply.text(f"got <b>{command.attachment.filename}</b> ({len(data)} bytes)")
        if command.name == "list":
            return Reply.text("1. <b>Putin</b>", buttons=((Button("❌ Putin", "unsubscribe 1"),),))
        manage = "yes" if command.can_manage_chat else "no"
        return Reply.text(f"did <b>{command.name}</b> {command.args} &amp; manage={manage}")

    async def chat_gone(self, key: ChatKey) -> None:
        self.gone.append(key)

    async def chat_moved(self, key: ChatKey, new_chat_id: str) -> None:
        raise AssertionError("Matrix rooms never move")

    async def get_state(self, key: str) -> str | None:
        return self.state.get(key)

    async def set_state(self, key: str, value: str) -> None:
        self.state[key] = value

    def requires_chat_admin(self, command_name: str) -> bool:
        return command_name in MANAGING_COMMANDS

    def command_names(self, lang: str) -> list[tuple[str, str]]:
        return [("subscribe", "follow a topic")]

    def names(self) -> list[str]:
        return [f"{c.name} {c.args}".strip() for c in self.commands]
