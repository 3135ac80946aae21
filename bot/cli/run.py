"""``newsalert run``: every configured transport plus the scheduler; the console chat when none is set."""

from __future__ import annotations

import argparse
from collections.abc import Coroutine
from typing import TYPE_CHECKING

from bot.cli.common import fail

if TYPE_CHECKING:
    from config.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "run",
        help="start the bot (console chat on stdin/stdout when no Telegram/Matrix credentials are set)",
    )
    parser.add_argument("--console", action="store_true", help="also run the console chat beside the transports")
    parser.set_defaults(func=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    # The whole application (transports, scheduler, feeds) is imported only when the bot really starts.
    import logging

    from bot.app import running_app
    from bot.storage.db import StorageError
    from bot.transports.base import TransportStartError

    platforms = settings.telegram.enabled or settings.matrix.enabled
    console = args.console or not platforms
    try:
        async with running_app(settings, console=console) as app:
            if console and not platforms:
                assert app.console is not None
                logging.getLogger(__name__).info("console chat: type /help; end of input (Ctrl-D) stops the bot")
                await _until_signal(app.console.run())
                await app.services.delivery.flush()
                return 0
            await _until_signal()
            return 0
    except (StorageError, TransportStartError) as exc:
        return fail(str(exc))


async def _until_signal(work: Coroutine[object, object, None] | None = None) -> None:
    """Wait for SIGINT/SIGTERM (or for ``work`` to end); either way the caller shuts down cleanly."""
    import asyncio  # here, not at the top: registering the command must not import the event loop
    import logging
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waiters = [asyncio.create_task(stop.wait())]
    if work is not None:
        waiters.append(asyncio.create_task(work))
    _, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if stop.is_set():
        logging.getLogger(__name__).info("stopping")
