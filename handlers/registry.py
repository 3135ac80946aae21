"""The one explicit list of feature modules, and the dispatcher that runs a neutral command."""

from __future__ import annotations

import html
import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.core.messaging import IncomingCommand, Reply
from bot.core.models import Chat, ChatKey
from handlers.base import CommandSpec, HandlerContext, Translator

if TYPE_CHECKING:
    from bot.services.container import Services

log = logging.getLogger(__name__)

# One module per feature; order = order in /help.
FEATURE_MODULES = (
    "handlers.start",
    "handlers.subscriptions",
    "handlers.archive",
    "handlers.delivery",
    "handlers.preferences",
    "handlers.admin",
    "handlers.feeds",
)

SUPPORTED_LANGS = ("en", "de")

TEXTS = {
    "en": {
        "err.unknown": "Unknown command /{name}. Send /help for the list of commands.",
        "err.admin_only": "Only bot admins can use /{name}.",
        "err.chat_admin_only": "In groups only chat admins can use /{name}; everyone can read with /list and /latest.",
        "err.internal": "Sorry, something went wrong while handling /{name}. Please try again later; "
        "the admins can find the details in the log.",
    },
    "de": {
        "err.unknown": "Unbekannter Befehl /{name}. /help zeigt alle Befehle.",
        "err.admin_only": "Nur Bot-Admins dürfen /{name} verwenden.",
        "err.chat_admin_only": "In Gruppen dürfen nur Gruppen-Admins /{name} verwenden; lesen (/list, /latest) "
        "dürfen alle.",
        "err.internal": "Entschuldigung, bei /{name} ist ein Fehler aufgetreten. Bitte später noch einmal "
        "versuchen; Details stehen im Log.",
    },
}


@dataclass(slots=True)
class Registry:
    commands: dict[str, CommandSpec] = field(default_factory=dict)  # name and aliases → spec
    ordered: list[CommandSpec] = field(default_factory=list)
    texts: dict[str, dict[str, str]] = field(default_factory=dict)

    def add_texts(self, texts: Mapping[str, Mapping[str, str]]) -> None:
        for lang, table in texts.items():
            clash = set(table) & set(self.texts.get(lang, {}))
            if clash:
                raise ValueError(f"text keys defined twice: {sorted(clash)}")
            self.texts.setdefault(lang, {}).update(table)

    def add(self, spec: CommandSpec) -> None:
        for name in (spec.name, *spec.aliases):
            if name in self.commands:
                raise ValueError(f"command /{name} registered twice")
            self.commands[name] = spec
        self.ordered.append(spec)

    def translator(self, lang: str) -> Translator:
        return Translator(lang if lang in SUPPORTED_LANGS else "en", self.texts)

    def help_line(self, spec: CommandSpec, lang: str) -> str:
        return self.texts.get(lang, {}).get(f"help.{spec.name}") or spec.help_en


def build_registry(modules: tuple[str, ...] = FEATURE_MODULES) -> Registry:
    registry = Registry()
    registry.add_texts(TEXTS)
    for name in modules:
        module = importlib.import_module(name)
        registry.add_texts(getattr(module, "TEXTS", {}))
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
        services = self._services
        lang_hint = _lang_from_hint(cmd.lang_hint)
        spec = self.registry.commands.get(cmd.name)
        refusal = "err.unknown" if spec is None else self._refusal(spec, cmd)
        try:
            if refusal:  # refused input stores nothing, not even the chat
                known = await services.storage.chats.get_by_key(ChatKey(cmd.platform, cmd.chat_id))
                t = self.registry.translator(known.lang if known else lang_hint)
                return Reply.text(t(refusal, name=html.escape(spec.name if spec else cmd.name[:40])))
            chat = await self._chat(cmd, lang_hint)
        except Exception:
            log.exception("cannot load chat %s/%s", cmd.platform, cmd.chat_id)
            return Reply.text(self.registry.translator(lang_hint)("err.internal", name=html.escape(cmd.name[:40])))
        assert spec is not None
        t = self.registry.translator(chat.lang)
        ctx = HandlerContext(cmd=cmd, chat=chat, services=services, t=t, now=services.clock.now())
        ctx.extra["registry"] = self.registry
        try:
            return await spec.func(ctx)
        except Exception:
            log.exception("handler /%s failed for %s/%s (args %r)", spec.name, cmd.platform, cmd.chat_id, cmd.args)
            return Reply.text(t("err.internal", name=spec.name))

    def _refusal(self, spec: CommandSpec, cmd: IncomingCommand) -> str | None:
        if spec.admin_only and not cmd.is_bot_admin:
            return "err.admin_only"
        if spec.manages_chat and cmd.is_group and not (cmd.can_manage_chat or cmd.is_bot_admin):
            return "err.chat_admin_only"
        return None

    async def _chat(self, cmd: IncomingCommand, lang_hint: str) -> Chat:
        key = ChatKey(cmd.platform, cmd.chat_id)
        before = await self._services.storage.chats.get_by_key(key)
        chat, _ = await self._services.storage.chats.get_or_create(
            key, self._services.clock.now(), lang=lang_hint, is_group=cmd.is_group, title=cmd.chat_title
        )
        if before is not None and not before.active:
            # The user came back after blocking the bot: its subscriptions match again.
            await self._services.chats.restore(chat)
        return chat


def _lang_from_hint(hint: str | None) -> str:
    if not hint:
        return "en"
    base = hint.split("-")[0].split("_")[0].lower()
    return base if base in SUPPORTED_LANGS else "en"
