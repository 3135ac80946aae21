"""``newsalert bench [--quick] [--json] [--only NAME...]``: the benchmarks of ``bench/``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    # The arguments come from bench.runner, which loads the benchmarks' helpers and the article models:
    # added only when `bench` itself is parsed (see bot.cli._Parser), so other commands never import it.
    parser = sub.add_parser(
        "bench",
        help="run the benchmarks (ingest, match, fan-out, latency, scale) and print their figures",
        setup=_arguments,
    )
    parser.set_defaults(func=bench)


def _arguments(parser: argparse.ArgumentParser) -> None:
    from bench.runner import BENCHMARKS, add_arguments

    parser.description = (
        f"Benchmarks: {', '.join(BENCHMARKS)}. Tables (or --json) on stdout, progress on stderr; "
        "results also go to bench/results/latest.json."
    )
    add_arguments(parser)


def bench(args: argparse.Namespace, settings: Settings | None) -> int:
    """The benchmarks build their own settings (fresh databases, local test servers): the user's
    configuration and database are never touched."""
    from bench.runner import run_from_args

    return run_from_args(args)
