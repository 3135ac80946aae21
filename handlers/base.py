"""What every handler gets, and the decorator that registers it.

A handler is ``async def name(ctx: HandlerContext) -> Reply``; the first line of its docstring is its
``/help`` text in English, and its module's ``TEXTS = {"en": {...}, "de": {...}}`` holds its reply texts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.messaging import IncomingCommand, Reply
from bot.core.models import Chat

if TYPE_CHECKING:
    from bot.services.container import Services

Handler = Callable[["HandlerContext"], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    func: Handler
    help_en: str
    admin_only: bool = False  # bot admins only (ADMIN_IDS / console user)
    manages_chat: bool = False  # changes the chat's settings: in groups only chat admins
    usage: str = ""  # e.g. "<query>"
    aliases: tuple[str, ...] = ()


def command(
    name: str, *, admin_only: bool = False, manages_chat: bool = False, usage: str = "", aliases: tuple[str, ...] = ()
) -> Callable[[Handler], Handler]:
    """Mark a handler; the registry collects marked functions from the modules it lists explicitly."""

    def mark(func: Handler) -> Handler:
        doc = (func.__doc__ or "").strip().splitlines()
        func.__command__ = CommandSpec(  # type: ignore[attr-defined]
            name=name,
            func=func,
            help_en=doc[0] if doc else name,
            admin_only=admin_only,
            manages_chat=manages_chat,
            usage=usage,
            aliases=aliases,
        )
        return func

    return mark


@dataclass(frozen=True, slots=True)
class Translator:
    lang: str
    texts: Mapping[str, Mapping[str, str]]  # lang -> key -> template

    def __call__(self, key: str, **values: Any) -> str:
        template = self.texts.get(self.lang, {}).get(key) or self.texts.get("en", {}).get(key) or key
        return template.format(**values) if values else template


@dataclass(slots=True)
class HandlerContext:
    cmd: IncomingCommand
    chat: Chat
    services: Services
    t: Translator
    now: datetime
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def args(self) -> str:
        return self.cmd.args.strip()
