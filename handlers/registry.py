"""The one explicit list of feature modules, and the dispatcher that runs a neutral command."""

from __future__ import annotations

import html
import importlib
import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from bot.core.i18n import N_, Translator, supported
from bot.core.messaging import IncomingCommand, Reply, TargetCheck
from bot.core.models import Chat, ChatKey
from handlers.base import CommandSpec, HandlerContext
from handlers.channels import TARGET_REFUSALS, for_target, takes_target

if TYPE_CHECKING:
    from bot.services.container import Services

log = logging.getLogger(__name__)

# One module per feature; order = order in /help.
FEATURE_MODULES = (
    "handlers.start",
    "handlers.subscriptions",
    "handlers.archive",
    "handlers.trend",
    "handlers.delivery",
    "handlers.preferences",
    "handlers.admin",
    "handlers.feeds",
    "handlers.channels",
)

UNKNOWN = N_("Unknown command {p}{name}. Send {p}help for the list of commands.")
ADMIN_ONLY = N_("Only bot admins can use {p}{name}.")
CHAT_ADMIN_ONLY = N_("In groups only chat admins can use {p}{name}; everyone can read with {p}list and {p}latest.")
INTERNAL = N_(
    "Sorry, something went wrong while handling {p}{name}. Please try again later; "
    "the admins can find the details in the log."
)


@dataclass(slots=True)
class Registry:
    commands: dict[str, CommandSpec] = field(default_factory=dict)  # name and aliases → spec
    ordered: list[CommandSpec] = field(default_factory=list)

    def add(self, spec: CommandSpec) -> None:
        for name in (spec.name, *spec.aliases):
            if name in self.commands:
                raise ValueError(f"command /{name} registered twice")
            self.commands[name] = spec
        self.ordered.append(spec)

    def help_line(self, spec: CommandSpec, t: Translator) -> str:
        """The command's /help line (its docstring's first line) in the translator's language."""
        return t(spec.help_en)


def build_registry(modules: tuple[str, ...] = FEATURE_MODULES) -> Registry:
    registry = Registry()
    for name in modules:
        module = importlib.import_module(name)
        for value in vars(module).values():
            spec = getattr(value, "__command__", None)
            if isinstance(spec, CommandSpec) and spec.func is value:
                registry.add(spec)
    return registry


class Dispatcher:
    """Finds the chat, checks rights, runs the handler; never raises."""

    def __init__(self, registry: Registry, services: Services) -> None:
        self.registry = registry
        self._services = services

    def requires_chat_admin(self, name: str) -> bool:
        spec = self.registry.commands.get(name)
        return spec is not None and (spec.manages_chat or spec.admin_only)

    async def handle(self, cmd: IncomingCommand) -> Reply:
        chats = self._services.chats
        lang_hint = supported(cmd.lang_hint)
        spec = self.registry.commands.get(cmd.name)
        if spec is not None and cmd.target is not None and takes_target(spec) and not self._refusal(spec, cmd):
            return await self._handle_target(spec, cmd, lang_hint)
        refusal = UNKNOWN if spec is None else self._refusal(spec, cmd)
        try:
            if refusal:  # refused input stores nothing, not even the chat
                known = await chats.find(ChatKey(cmd.platform, cmd.chat_id))
                t = _translator(known.lang if known else lang_hint, cmd)
                return Reply.text(t(refusal, name=html.escape(spec.name if spec else cmd.name[:40])))
            chat = await self._chat(cmd, lang_hint)
        except Exception:
            log.exception("cannot load chat %s/%s", cmd.platform, cmd.chat_id)
            return Reply.text(_translator(lang_hint, cmd)(INTERNAL, name=html.escape(cmd.name[:40])))
        assert spec is not None
        return await self._run(spec, cmd, chat)

    async def _run(self, spec: CommandSpec, cmd: IncomingCommand, chat: Chat) -> Reply:
        t = _translator(chat.lang, cmd)
        ctx = HandlerContext(
            cmd=cmd, chat=chat, services=self._services, t=t, now=self._services.clock.now(), registry=self.registry
        )
        try:
            return await spec.func(ctx)
        except Exception:
            log.exception("handler /%s failed for %s/%s (args %r)", spec.name, cmd.platform, cmd.chat_id, cmd.args)
            return Reply.text(t(INTERNAL, name=spec.name))

    async def _handle_target(self, spec: CommandSpec, cmd: IncomingCommand, lang_hint: str) -> Reply:
        """A command for a chat named in its arguments (a channel managed from a private chat): the platform
        checks the sender's and the bot's rights there first; a refusal stores nothing."""
        assert cmd.target is not None
        try:
            check = await cmd.target.check()
            if check.refusal is not None:
                known = await self._services.chats.find(ChatKey(cmd.platform, cmd.chat_id))
                return _target_refusal(check, _translator(known.lang if known else lang_hint, cmd))
            chat = await self._services.channels.open(
                cmd.platform, check, cmd.user_id, lang_hint, self._services.clock.now()
            )
        except Exception:
            log.exception("cannot open target %r of %s/%s", cmd.target.ref, cmd.platform, cmd.chat_id)
            return Reply.text(_translator(lang_hint, cmd)(INTERNAL, name=html.escape(spec.name)))
        reply = await self._run(spec, replace(cmd, args=cmd.target.args), chat)
        return for_target(reply, check, _translator(chat.lang, cmd))

    def _refusal(self, spec: CommandSpec, cmd: IncomingCommand) -> str | None:
        if spec.admin_only and not cmd.is_bot_admin:
            return ADMIN_ONLY
        if spec.manages_chat and cmd.is_group and not (cmd.can_manage_chat or cmd.is_bot_admin):
            return CHAT_ADMIN_ONLY
        return None

    async def _chat(self, cmd: IncomingCommand, lang_hint: str) -> Chat:
        return await self._services.chats.open(
            ChatKey(cmd.platform, cmd.chat_id),
            self._services.clock.now(),
            lang=lang_hint,
            is_group=cmd.is_group,
            title=cmd.chat_title,
        )


def _target_refusal(check: TargetCheck, t: Translator) -> Reply:
    text = TARGET_REFUSALS.get(check.refusal or "", TARGET_REFUSALS[""])
    return Reply.text(t(text, channel=f"<b>{html.escape(check.name)}</b>"))


def _translator(lang: str, cmd: IncomingCommand) -> Translator:
    return Translator(supported(lang), cmd.command_prefix)
