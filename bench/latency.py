"""Latency benchmark: from an admin's ``/addseed`` upload to the alert accepted by the platform.

    newsalert bench --only latency [--quick]      (or: python -m bench --only latency)

End to end through the Telegram Bot API test server: the admin sends a ``.txt`` document with the caption
``/addseed``; the bot long-polls the update, downloads the file, stores and matches the article, queues the
alert and sends it. The clock starts when the upload is posted to the server and stops when the server
receives the alert for the subscriber's chat (answered 200). One article at a time, each for a different
subscriber in instant mode (so the one-message-a-second per-chat pacing never adds a wait), each article a
real corpus text naming a person only that subscriber follows.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr
from rich.table import Table

from bench.common import (
    BenchError,
    bench_settings,
    corpus_path,
    iter_records,
    load_test_server,
    peak_rss_mb,
    progress,
    record_text,
    seed_chats,
)
from bot.app import running_app
from bot.core.matching import MatchEngine
from config.settings import TelegramSettings

if TYPE_CHECKING:
    from tests.telegram_server import BotApiServer

ARTICLE_CORPUS = "en_bbc_2005.jsonl"
ADMIN_ID = 4_200
FIRST_USER_ID = 800_000_000
TARGET_P95_S = 1.0
GIVE_UP_AFTER_MISSES = 3
_SYLLABLES = (
    "ka",
    "ro",
    "vel",
    "mi",
    "tan",
    "zu",
    "bor",
    "qui",
    "len",
    "dra",
    "sko",
    "per",
    "vy",
    "nash",
    "ot",
)


@dataclass(frozen=True, slots=True)
class LatencySizes:
    articles: int = 200
    wait_s: float = 10.0  # an alert not seen by then counts as missing


FULL = LatencySizes()
QUICK = LatencySizes(articles=50)


def made_up_names(count: int, engine: MatchEngine, seed: int = 11) -> list[str]:
    """Distinct surnames no article contains, so each article alerts exactly one subscriber."""
    rng = random.Random(seed)
    names: dict[str, None] = {}
    while len(names) < count:
        name = "".join(rng.choice(_SYLLABLES) for _ in range(4)).capitalize()
        if name not in names and engine.resolve(name).key:
            names[name] = None
    return list(names)


def articles_naming(names: list[str], data_dir: Path | None) -> list[str]:
    """Seed texts: a real article each, whose first paragraph quotes one of ``names``."""
    texts: list[str] = []
    for record in iter_records(corpus_path(ARTICLE_CORPUS, data_dir)):
        title, body = record_text(record)
        if not title or len(body) < 500:
            continue
        name = names[len(texts)]
        texts.append(f"{title}\n\n{name}, a spokesperson, commented on the story. {body}")
        if len(texts) == len(names):
            return texts
    raise BenchError(f"{ARTICLE_CORPUS} has fewer than {len(names)} usable articles")


async def _measure(workdir: Path, names: list[str], texts: list[str], sizes: LatencySizes) -> list[float]:
    async with load_test_server()() as server:
        admin = server.add_user(ADMIN_ID, "Admin")
        admin_chat = server.private_chat(admin)
        user_ids = [FIRST_USER_ID + n for n in range(len(names))]
        for user_id in user_ids:
            server.private_chat(server.add_user(user_id, f"Reader {user_id}"))
        telegram = TelegramSettings(
            token=SecretStr(server.token),
            api_base_url=server.api_base_url,
            file_base_url=server.file_base_url,
            admin_ids=[ADMIN_ID],
        )
        async with running_app(bench_settings(workdir, telegram), load_seeds=False) as app:
            seeded = await seed_chats(
                app.storage,
                app.services.engine,
                [(str(u), [n]) for u, n in zip(user_ids, names, strict=True)],
            )
            for chat in seeded:
                for sub in chat.subscriptions:
                    app.pipeline.add(sub)
            progress(f"latency: {len(texts)} uploads with /addseed, one at a time")
            latencies: list[float] = []
            misses = 0
            for index, (user_id, text) in enumerate(zip(user_ids, texts, strict=True)):
                before = len(server.attempts)
                started = time.monotonic()
                upload = text.encode()
                server.user_sends_document(
                    admin_chat, admin, filename=f"article-{index}.txt", content=upload, caption="/addseed"
                )
                latency = await _alert_latency(server, user_id, before, started, sizes.wait_s)
                if latency is not None:
                    latencies.append(latency)
                    misses = 0
                    continue
                misses += 1
                if misses >= GIVE_UP_AFTER_MISSES:  # broken, not slow: waiting out every upload helps nobody
                    raise BenchError(f"{misses} uploads in a row produced no alert; see the log above")
            return latencies


async def _alert_latency(
    server: BotApiServer, chat_id: int, before: int, started: float, wait_s: float
) -> float | None:
    def accepted() -> float | None:
        for attempt in server.attempts[before:]:
            if attempt.chat_id == chat_id and attempt.status == 200:
                return float(attempt.arrived_at)
        return None

    try:
        await server.wait_for(lambda: accepted() is not None, within=wait_s)
    except AssertionError:
        progress(f"latency: no alert for chat {chat_id} within {wait_s:.0f}s")
        return None
    arrived = accepted()
    return None if arrived is None else arrived - started


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def run(
    quick: bool = False, data_dir: Path | None = None, sizes: LatencySizes | None = None
) -> dict[str, float]:
    sizes = sizes or (QUICK if quick else FULL)
    engine = MatchEngine.load()
    names = made_up_names(sizes.articles, engine)
    texts = articles_naming(names, data_dir)
    with tempfile.TemporaryDirectory(prefix="newsalert-bench-latency-") as tmp:
        latencies = asyncio.run(_measure(Path(tmp), names, texts, sizes))
    return {
        "latency_articles": float(sizes.articles),
        "latency_alerts": float(len(latencies)),
        "latency_p50_s": _quantile(latencies, 0.50),
        "latency_p95_s": _quantile(latencies, 0.95),
        "latency_max_s": max(latencies, default=0.0),
        "latency_mean_s": statistics.fmean(latencies) if latencies else 0.0,
        "latency_peak_rss_mb": peak_rss_mb(),
    }


def table(figures: dict[str, float]) -> Table:
    out = Table(title="latency: /addseed upload → alert accepted by the Bot API server (instant mode)")
    out.add_column("figure")
    out.add_column("value", justify="right")
    out.add_row("articles uploaded", f"{figures['latency_articles']:,.0f}")
    out.add_row("alerts received", f"{figures['latency_alerts']:,.0f}")
    for key in ("p50", "p95", "max", "mean"):
        out.add_row(f"{key} s", f"{figures[f'latency_{key}_s']:.3f}")
    return out


def tiny() -> LatencySizes:
    return replace(QUICK, articles=3)
