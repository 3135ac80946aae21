"""``newsalert ingest PATH...``: load files, folders, feed URLs and OPML lists into the archive."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.common import CliError, fail, open_storage, progress_bar

if TYPE_CHECKING:  # the application (and asyncio, the feed and article models) loads when the command runs:
    # `newsalert --help` stays instant
    from bot.core.models import IngestReport
    from bot.services.feeds import FeedService
    from bot.services.ingest import IngestService
    from config.settings import Settings

SHOW_PROBLEMS = 20
_NON_HTTP_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("ingest", help="load article files/folders, feed URLs or OPML files into the archive")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="file, folder, http(s) feed URL or .opml file")
    parser.add_argument("--no-alerts", action="store_true", help="archive only; do not queue alerts")
    parser.set_defaults(func=ingest)


async def ingest(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import build_services
    from bot.core.clock import SystemClock
    from bot.services.feeds import FeedService

    try:
        async with open_storage(settings) as storage:
            clock = SystemClock()
            services, _ = await build_services(settings, storage, clock)
            feeds = FeedService(storage, settings.feeds, services.ingest, clock, _no_admins)
            await feeds.start()
            try:
                report = await _ingest_all(args, services.ingest, feeds)
            finally:
                await feeds.close()
    except CliError as exc:
        return fail(str(exc))
    _print_report(report)
    return 0 if report.count("rejected") == 0 or report.count("new") + report.count("duplicate") else 1


async def _no_admins(_: str) -> None:
    """Nobody to notify from the command line."""


async def _ingest_all(args: argparse.Namespace, ingest_service: IngestService, feeds: FeedService) -> IngestReport:
    from bot.core.models import IngestOutcome, IngestReport

    report = IngestReport()
    with progress_bar(transient=True) as progress:
        for raw in args.paths:
            task = progress.add_task(raw[-40:], total=_estimate(raw))
            if raw.startswith(("http://", "https://")):
                report.extend(await _ingest_url(raw, ingest_service, feeds, not args.no_alerts))
            elif _NON_HTTP_URL.match(raw):  # file:, ftp:, gopher: … say so rather than "no such file"
                report.outcomes.append(IngestOutcome(raw, "rejected", _url_refusal(raw)))
            elif raw.lower().endswith(".opml"):
                report.extend(await _ingest_opml(Path(raw), ingest_service, feeds, not args.no_alerts))
            else:
                report.extend(
                    await ingest_service.ingest_path(
                        Path(raw), alert=not args.no_alerts, progress=lambda n, t=task: progress.advance(t, n)
                    )
                )
            progress.update(task, completed=progress.tasks[task].total or 0)
    return report


async def _ingest_opml(path: Path, ingest_service: IngestService, feeds: FeedService, alert: bool) -> IngestReport:
    import asyncio

    from bot.core.feeds.opml import OpmlError, parse_opml
    from bot.core.models import IngestOutcome, IngestReport

    report = IngestReport()
    try:
        entries = parse_opml(await asyncio.to_thread(path.read_bytes))
    except (OSError, ValueError, OpmlError) as exc:
        report.outcomes.append(IngestOutcome(str(path), "rejected", f"cannot read OPML: {exc}"))
        return report
    for entry in entries:
        report.extend(await _ingest_url(entry.url, ingest_service, feeds, alert))
    return report


async def _ingest_url(url: str, ingest_service: IngestService, feeds: FeedService, alert: bool) -> IngestReport:
    from bot.core.feeds.results import FeedError
    from bot.core.models import IngestOutcome, IngestReport

    try:
        items = await feeds.fetch_items(url)
    except FeedError as exc:
        return IngestReport([IngestOutcome(url, "rejected", str(exc))])
    return await ingest_service.ingest_items(items, alert=alert)


def _url_refusal(raw: str) -> str:
    from bot.core.feeds.urls import UnsafeUrl, check_feed_url

    try:
        check_feed_url(raw)
    except UnsafeUrl as exc:
        return str(exc)
    return "not a file or an http(s) URL"


def _estimate(raw: str) -> int | None:
    """Line count for plain JSONL files (cheap), so the bar has an end; None elsewhere."""
    path = Path(raw)
    if path.is_file() and path.suffix == ".jsonl":
        with path.open("rb") as handle:
            return sum(1 for _ in handle)
    return None


def _print_report(report: IngestReport) -> None:
    from collections import Counter

    counts = Counter(o.status for o in report.outcomes)
    problems = [o for o in report.outcomes if o.status == "rejected" or o.reason.startswith("repaired")]
    for outcome in problems[:SHOW_PROBLEMS]:
        label = "rejected" if outcome.status == "rejected" else "repaired"
        print(f"{label}: {outcome.source}: {outcome.reason.removeprefix('repaired: ')}", file=sys.stderr)
    if len(problems) > SHOW_PROBLEMS:
        print(f"… and {len(problems) - SHOW_PROBLEMS} more problem(s)", file=sys.stderr)
    print(
        f"new={counts['new']} duplicate={counts['duplicate']} rejected={counts['rejected']}"
        + (f" repaired={sum(1 for o in problems if o.status != 'rejected')}" if problems else "")
    )
