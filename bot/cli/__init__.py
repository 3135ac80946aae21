"""The ``newsalert`` command line. One module per command, each with ``register(subparsers)``.

Start-up time matters here (``newsalert --help`` and ``newsalert match`` should answer at once), so this
module and every command module import only argparse-level things at the top; a command imports what it
uses when it runs, and configuration (pydantic) is loaded only for the commands that read it.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
import types
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config.settings import Settings

# Explicit registry: a command module provides register(subparsers) which sets ``func`` (async or sync)
# taking (args, settings) and returning an exit code; beside each, the commands it registers (a command
# that is run loads only its own module: the others' imports and arguments cost it nothing).
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "bot.cli.run": ("run",),
    "bot.cli.ingest": ("ingest",),
    "bot.cli.search": ("search",),
    "bot.cli.trend": ("trend",),
    "bot.cli.match": ("match", "match-eval"),
    "bot.cli.summarize": ("summarize", "summary-eval"),
    "bot.cli.bench": ("bench",),
    "bot.cli.db": ("db",),
}
# Commands that never read the configuration: they get ``settings=None`` and skip loading it (the
# pydantic import alone is most of a 0.3 s start-up budget). A bad NEWSALERT_* variable cannot affect them.
SETTINGS_FREE = frozenset({"match", "match-eval", "summarize", "summary-eval", "bench"})

EXIT_OK, EXIT_NO, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """``setup`` (optional) adds a command's arguments the first time the command is parsed or its help
    shown: a command whose arguments come from a heavy module (``bench``) costs ``newsalert --help`` nothing."""

    def __init__(self, *args: Any, setup: Callable[[argparse.ArgumentParser], None] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._setup = setup

    def _ready(self) -> None:
        setup, self._setup = self._setup, None
        if setup is not None:
            setup(self)

    def parse_known_args(self, *args: Any, **kw: Any) -> Any:
        self._ready()
        return super().parse_known_args(*args, **kw)

    def format_help(self) -> str:
        self._ready()
        return super().format_help()

    def format_usage(self) -> str:
        self._ready()
        return super().format_usage()

    def error(self, message: str) -> None:  # exit 2 with one line, as argparse does, but never a traceback
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command, or only the module registering ``command`` when it names one (``newsalert --help``,
    a typo and no command at all get the full parser with its list of commands)."""
    parser = _Parser(prog="newsalert", description="News-alert chat bot for Telegram and Matrix.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    modules = [name for name, commands in COMMAND_MODULES.items() if command in commands] or COMMAND_MODULES
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command still being written; the others keep working
                continue
            raise
        module.register(sub)
    return parser


def setup_logging(level: str) -> None:
    import logging  # a cheap import, but only the commands that run need it

    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore", "apscheduler.executors", "nio.responses", "telegram.ext.Updater"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def _load_settings() -> Settings | None:
    """The configuration, or None after printing one line per problem."""
    from config.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"newsalert: configuration error: {problem}", file=sys.stderr)
        return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # Importing the command and pydantic allocates objects that all live to the end: the collector's
    # passes over them find nothing and cost a short command a few per cent of its start
    collecting = gc.isenabled()
    gc.disable()
    try:
        args = build_parser(argv[0] if argv else None).parse_args(argv)
        settings: Settings | None = None
        if args.command in SETTINGS_FREE:
            setup_logging("WARNING")
        else:
            settings = _load_settings()
            if settings is None:
                return EXIT_USAGE
            setup_logging(settings.log_level)
    finally:
        if collecting:
            gc.enable()
    try:
        return _dispatch(args, settings)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def _dispatch(args: argparse.Namespace, settings: Settings | None) -> int:
    try:
        result = args.func(args, settings)
        if isinstance(result, types.CoroutineType):
            import asyncio  # only the commands that are coroutines pay for the event loop

            result = asyncio.run(result)
    except Exception as exc:
        if not _is_storage_problem(exc):
            raise
        # Disk full, read-only or corrupt database: every write was a transaction, so nothing is half-stored.
        where = settings.db_path if settings is not None else "the database"
        print(f"newsalert: database problem with {where}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return int(result or 0)


def _is_storage_problem(exc: Exception) -> bool:
    """SQLite or storage errors; the storage module is looked up, not imported: a command that never
    loaded it cannot have raised its error, and importing it would cost the light commands 0.2 s."""
    import sqlite3

    db = sys.modules.get("bot.storage.db")
    return isinstance(exc, sqlite3.Error) or (db is not None and isinstance(exc, db.StorageError))
