"""What every handler gets, and the decorator that registers it.

A handler is ``async def name(ctx: HandlerContext) -> Reply``; the first line of its docstring is its
``/help`` text in English (translated where /help shows it). Reply texts are English at the call site,
``ctx.t("Subscribed: <b>{query}</b>", query=...)``, with the German in the gettext catalog; ``{p}`` in a text
is the platform's command prefix, so ``{p}list`` reads ``/list`` on Telegram and ``!list`` on Matrix.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.i18n import Translator
from bot.core.messaging import IncomingCommand, Reply
from bot.core.models import Chat

if TYPE_CHECKING:
    from bot.services.container import Services
    from handlers.registry import Registry

Handler = Callable[["HandlerContext"], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    func: Handler
    help_en: str  # the docstring's first line: the English /help text and its catalog msgid
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
class HandlerContext:
    cmd: IncomingCommand
    chat: Chat
    services: Services
    t: Translator  # the chat's language and the platform's command prefix
    now: datetime
    registry: Registry  # the commands, for /help

    @property
    def args(self) -> str:
        return self.cmd.args.strip()
