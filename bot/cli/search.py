"""``newsalert search QUERY``: archive full-text search, newest first."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.common import CliError, fail, open_database

if TYPE_CHECKING:
    from config.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("search", help="archive search, newest first")
    parser.add_argument("query", nargs="+", help="words to look for")
    parser.add_argument("--limit", type=int, default=10, help="how many results (default 10)")
    parser.set_defaults(func=search)


async def search(args: argparse.Namespace, settings: Settings) -> int:
    query = " ".join(args.query)
    if not 1 <= args.limit <= 1000:
        return fail("--limit must be between 1 and 1000")
    try:
        from bot.storage.articles import ArticleRepository

        async with open_database(settings) as db:  # the archive alone: no other repository is loaded
            found = await ArticleRepository(db).search(query, args.limit)
    except CliError as exc:
        return fail(str(exc))
    if not found:
        print(f"no article matches {query!r}")
        return 1
    for article in found:
        day = article.published.isoformat() if article.published else "undated"
        print(f"{article.id:>7}  {day:<10}  {article.lang}  {article.title}")
    return 0
