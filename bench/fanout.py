"""Fan-out benchmark: one article matching every one of N Telegram private chats, delivered through the
Bot API test server (in a process of its own) with the app's pacing on.

    newsalert bench --only fanout [--quick]      (or: python -m bench --only fanout)

The app runs as in production (``running_app``: outbox worker, rate limiter, python-telegram-bot over HTTP),
configured with ``NEWSALERT_TELEGRAM__PAID_BROADCAST=true`` (pacing 1,000 msg/s, ``allow_paid_broadcast`` on
every send) and one message a second per chat; the server answers 429 to any send beyond that limit over a
sliding second. ``fanout_bot_cpu_ms_per_msg`` is the CPU time of this (the bot's) process, every thread,
from the ingest of the article to the last delivery, per delivered message; the server's CPU is not in it.
Chats and subscriptions are written through the storage layer and added to the live matching index
(``subscribe`` does the same, one chat at a time).
"""

from __future__ import annotations

import asyncio
import resource
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import SecretStr
from rich.table import Table

from bench.common import (
    BenchError,
    bench_settings,
    corpus_path,
    iter_records,
    peak_rss_mb,
    progress,
    record_text,
    seed_chats,
)
from bench.server_process import ServerProcess, ServerReport, ServerSpec
from bot.app import App, running_app
from bot.core.ingest import parse_document
from bot.core.matching import MatchEngine
from config.settings import TelegramSettings

ARTICLE_CORPUS = "en_bbc_2005.jsonl"
QUERY = "Tony Blair"
FIRST_USER_ID = 700_000_000
TARGET_SHARE = 0.95


@dataclass(frozen=True, slots=True)
class FanoutSizes:
    chats: int = 10_000
    rate_limit: float = 1000.0  # messages per second: paid broadcasts' ceiling, the server enforces it
    deadline_s: float = 180.0  # give up waiting (a stuck run must end with a figure, not hang)


FULL = FanoutSizes()
QUICK = FanoutSizes(chats=1_000)


def pick_article(data_dir: Path | None, engine: MatchEngine) -> str:
    """A real full-text article the query matches, as a seed text file."""
    for record in iter_records(corpus_path(ARTICLE_CORPUS, data_dir)):
        title, body = record_text(record)
        text = f"{title}\n\n{body}"
        if title and len(body) > 800 and engine.match(QUERY, text, "en").matched:
            return text
    raise BenchError(f"no article in {ARTICLE_CORPUS} matches {QUERY!r}")


async def _add_chats(app: App, user_ids: range) -> int:
    seeded = await seed_chats(app.storage, app.services.engine, [(str(u), [QUERY]) for u in user_ids])
    for chat in seeded:
        for sub in chat.subscriptions:
            app.pipeline.add(sub)
    return sum(1 for chat in seeded if chat.subscriptions)


async def _fanout(workdir: Path, article: str, sizes: FanoutSizes) -> dict[str, float]:
    spec = ServerSpec(sizes.rate_limit, FIRST_USER_ID, sizes.chats, sizes.deadline_s)
    server = ServerProcess(spec)
    async with server as endpoint:
        telegram = TelegramSettings(
            token=SecretStr(endpoint.token),
            api_base_url=endpoint.api_base_url,
            file_base_url=endpoint.file_base_url,
            global_rate=sizes.rate_limit,
            per_chat_rate=1.0,
            paid_broadcast=True,
        )
        async with running_app(bench_settings(workdir, telegram), load_seeds=False) as app:
            progress(f"fanout: creating {sizes.chats:,} chats subscribed to {QUERY!r}")
            user_ids = range(FIRST_USER_ID, FIRST_USER_ID + sizes.chats)
            if await _add_chats(app, user_ids) != sizes.chats:
                raise BenchError(f"the fan-out query {QUERY!r} was refused")
            items = await asyncio.to_thread(parse_document, "fanout.txt", article.encode())
            progress(f"fanout: one article to {sizes.chats:,} chats at {sizes.rate_limit:.0f} msg/s")
            started, cpu_started = time.monotonic(), _cpu_seconds()
            report = await app.services.ingest.ingest_items(items)
            if not report.new_ids:
                raise BenchError(f"the fan-out article was not stored: {report.outcomes}")
            server_report = await server.report()
            cpu_s = _cpu_seconds() - cpu_started
    figures = _figures(server_report, set(user_ids), started, sizes)
    delivered = figures["fanout_delivered"]
    figures["fanout_bot_cpu_ms_per_msg"] = 1000.0 * cpu_s / delivered if delivered else 0.0
    # The test server's own CPU per message (its process): on a 2-core machine bot + server share the cores.
    figures["fanout_server_cpu_ms_per_msg"] = 1000.0 * server_report.cpu_s / delivered if delivered else 0.0
    return figures


def _cpu_seconds() -> float:
    """User + system CPU of this process and all its threads (the server process is a child, not counted)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _figures(report: ServerReport, chats: set[int], started: float, sizes: FanoutSizes) -> dict[str, float]:
    attempts = [a for a in report.sends if a.chat_id in chats]
    accepted = sorted(a.arrived_at for a in attempts if a.status == 200)
    span = accepted[-1] - accepted[0] if len(accepted) > 1 else 0.0
    rate = (len(accepted) - 1) / span if span > 0 else 0.0
    return {
        "fanout_chats": float(len(chats)),
        "fanout_delivered": float(len(accepted)),
        "fanout_distinct_chats": float(len({a.chat_id for a in attempts if a.status == 200})),
        "fanout_429s": float(sum(1 for a in attempts if a.status == 429)),
        "fanout_other_errors": float(sum(1 for a in attempts if a.status not in (200, 429))),
        "fanout_early_sends": float(report.early_sends),
        "fanout_limit_per_s": sizes.rate_limit,
        "fanout_limit": sizes.rate_limit,
        "fanout_paid_sends": float(sum(1 for a in attempts if a.status == 200 and a.paid)),
        "fanout_msgs_per_s": rate,
        "fanout_share_of_limit": rate / sizes.rate_limit,
        "fanout_first_send_s": accepted[0] - started if accepted else 0.0,
        "fanout_total_s": accepted[-1] - started if accepted else 0.0,
    }


def run(
    quick: bool = False, data_dir: Path | None = None, sizes: FanoutSizes | None = None
) -> dict[str, float]:
    sizes = sizes or (QUICK if quick else FULL)
    article = pick_article(data_dir, MatchEngine.load())
    with tempfile.TemporaryDirectory(prefix="newsalert-bench-fanout-") as tmp:
        figures = asyncio.run(_fanout(Path(tmp), article, sizes))
    figures["fanout_peak_rss_mb"] = peak_rss_mb()
    return figures


def table(figures: dict[str, float]) -> Table:
    out = Table(title=f"fan-out: one article to {int(figures['fanout_chats']):,} Telegram chats")
    out.add_column("figure")
    out.add_column("value", justify="right")
    rows = (
        ("delivered (accepted by the server)", f"{figures['fanout_delivered']:,.0f}"),
        ("configured limit msg/s", f"{figures['fanout_limit_per_s']:,.0f}"),
        ("achieved msg/s (first to last send)", f"{figures['fanout_msgs_per_s']:,.1f}"),
        ("share of the limit", f"{figures['fanout_share_of_limit']:.1%}"),
        ("429s caused", f"{figures['fanout_429s']:,.0f}"),
        ("sent as paid broadcast", f"{figures['fanout_paid_sends']:,.0f}"),
        ("bot CPU ms per message", f"{figures['fanout_bot_cpu_ms_per_msg']:.3f}"),
        ("test server CPU ms per message (its own process)", f"{figures['fanout_server_cpu_ms_per_msg']:.3f}"),
        ("other send errors", f"{figures['fanout_other_errors']:,.0f}"),
        ("ingest → first alert s", f"{figures['fanout_first_send_s']:.2f}"),
        ("ingest → last alert s", f"{figures['fanout_total_s']:.1f}"),
        ("peak RSS MB", f"{figures['fanout_peak_rss_mb']:,.0f}"),
    )
    for name, value in rows:
        out.add_row(name, value)
    return out


def tiny() -> FanoutSizes:
    return replace(QUICK, chats=30, deadline_s=60.0)
