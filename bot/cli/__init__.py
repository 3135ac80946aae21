"""The ``newsalert`` command line. One module per command, each with ``register(subparsers)``."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sqlite3
import sys
from collections.abc import Sequence

from bot.storage.db import StorageError
from config.settings import Settings, SettingsError, load_settings

# Explicit registry: a command module provides register(subparsers) which sets ``func`` (async or sync)
# taking (args, settings) and returning an exit code.
COMMAND_MODULES = (
    "bot.cli.run",
    "bot.cli.ingest",
    "bot.cli.search",
    "bot.cli.match",
    "bot.cli.summarize",
    "bot.cli.bench",
    "bot.cli.db",
)

EXIT_OK, EXIT_NO, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with one line, as argparse does, but never a traceback
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="newsalert", description="News-alert chat bot for Telegram and Matrix.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # a command still being written; the others keep working
                continue
            raise
        module.register(sub)
    return parser


def setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore", "apscheduler.executors", "nio.responses", "telegram.ext.Updater"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"newsalert: configuration error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    setup_logging(settings)
    try:
        result = args.func(args, settings)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
    except (StorageError, sqlite3.Error) as exc:
        # Disk full, read-only or corrupt database: every write was a transaction, so nothing is half-stored.
        print(f"newsalert: database problem with {settings.db_path}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    return int(result or 0)
