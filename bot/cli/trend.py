"""``newsalert trend QUERY [--days N] [--out FILE.png] [--json]``: the chat's trend chart and its numbers."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import CliError, fail, open_storage

if TYPE_CHECKING:  # the engine and the service load when the command runs: `newsalert --help` stays instant
    from datetime import date

    from bot.services.trends import TrendReport
    from config.settings import Settings

EXIT_OK, EXIT_NO = 0, 1
# The catalog languages (bot.core.i18n.LANGUAGES, checked by a test): importing i18n here would load Babel for
# every `newsalert` command.
CHART_LANGUAGES = ("en", "de")
_SLUG = re.compile(r"[^a-z0-9]+")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("trend", help="mention-volume chart of the archive and its numbers")
    parser.add_argument("query", nargs="+", help="query as for subscribe; several separated by commas (up to 3)")
    # The default lives with the chat command (bot.core.trends.DEFAULT_DAYS); importing it here would load the
    # matching engine for every `newsalert` command.
    parser.add_argument("--days", type=int, default=None, help="period in days (default 30, as in the chat)")
    parser.add_argument("--out", type=Path, metavar="FILE.png", help="where to write the chart (default: charts/ "
                        "beside the database)")
    parser.add_argument("--json", action="store_true", help="print {query: {day: count}} instead of a chart")
    parser.add_argument("--until", type=_iso_date, metavar="YYYY-MM-DD", help="last day of the period (default today)")
    parser.add_argument("--lang", choices=CHART_LANGUAGES, default="en", help="language of the chart and caption")
    parser.add_argument("--timezone", default="UTC", help="time zone that decides what today is (default UTC)")
    parser.set_defaults(func=trend)


def _iso_date(text: str) -> date:
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


async def trend(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio  # loaded already by the running event loop; not at the top, for `newsalert --help`
    import json

    from bot.core.clock import SystemClock
    from bot.core.i18n import translator
    from bot.core.matching import LexiconError, MatchEngine
    from bot.core.messaging import html_to_text
    from bot.core.trends import DEFAULT_DAYS, TrendRefused
    from bot.services.trends import TrendService

    queries = [q.strip() for q in " ".join(args.query).split(",") if q.strip()]
    t = translator(args.lang)
    try:
        engine = await asyncio.to_thread(MatchEngine.load, settings.cache_dir)
    except LexiconError as exc:
        return fail(f"the shipped lexicon is broken: {exc}")
    try:
        async with open_storage(settings) as storage:
            service = TrendService(storage, engine, SystemClock())
            pending = await storage.trends.pending_count()
            if pending:
                print(f"reading {pending:,} article(s) not indexed yet …", file=sys.stderr)
                await service.index_pending()
            days = DEFAULT_DAYS if args.days is None else args.days
            report = await service.report(queries, days, timezone=args.timezone, lang=args.lang, until=args.until)
            if args.json:
                print(json.dumps({s.query: s.as_json() for s in report.series}, ensure_ascii=False, indent=1))
                return EXIT_NO if report.empty else EXIT_OK
            if report.empty:
                print(html_to_text(service.empty_sentence(report, t)))
                return EXIT_NO
            chart = await service.chart(report, t)
    except TrendRefused as refusal:
        return fail(html_to_text(t(refusal.message, **refusal.values)))
    except CliError as exc:
        return fail(str(exc))
    path = args.out or default_path(settings, report)
    try:
        await asyncio.to_thread(_write, path, chart.png)
    except OSError as exc:
        return fail(f"cannot write {path}: {exc.strerror or exc}")
    print(html_to_text(chart.caption))
    print(f"chart ({chart.width}×{chart.height}): {path.resolve()}")
    return EXIT_OK


def default_path(settings: Settings, report: TrendReport) -> Path:
    slug = _SLUG.sub("-", "-".join(s.query for s in report.series).lower()).strip("-")[:60] or "trend"
    return settings.db_path.parent / "charts" / f"trend-{slug}-{report.period.days}d-{report.period.end}.png"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
