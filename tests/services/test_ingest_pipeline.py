"""``IngestService.ingest_path`` stores batch k+1 while batch k is matched: the outcome must be exactly that of
storing and matching the same items one after the other (reports, dedupe across batches, rejections with
reasons, FTS content, alerts, nothing left unmatched)."""

from __future__ import annotations

import gc
import itertools
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.app import running_app
from bot.core.clock import SystemClock
from bot.core.ingest import iter_path
from bot.core.matching import MatchEngine
from bot.core.models import Article, IngestReport
from bot.services.ingest import BULK_GC_THRESHOLD, BULK_SWITCH_INTERVAL, IngestService
from bot.services.ingest_reader import BATCH, BATCH_CHARS, batch_sizes, take_batch
from bot.storage.db import WAL_CHECKPOINT_PAGES
from bot.storage.store import Storage
from config.settings import Settings
from tests.fakes import command

ARTICLES = BATCH * 2 + 600  # three batches, the last one partial
WORDS = ("Hafen", "Weizen", "Bahn", "Satellit", "Erdgas", "Flugabwehr", "Rubel", "Grenze", "Kraftwerk", "Stipendium")


def _record(n: int) -> dict[str, object]:
    who = "Kremlchef Wladimir Putin" if n % 7 == 0 else "Die Regierung"
    topic = " ".join(WORDS[(n + k) % len(WORDS)] for k in range(4))
    text = f"{who} sprach am Dienstag über Projekt {n} ({topic}); Fachleute erwarten Ergebnisse im Herbst."
    return {"id": f"a{n}", "title": f"Meldung Nummer {n}", "text": text, "lang": "de"}


def _corpus(path: Path) -> Path:
    lines = [json.dumps(_record(n), ensure_ascii=False) for n in range(ARTICLES)]
    lines[BATCH + 5] = json.dumps(_record(3), ensure_ascii=False)  # a duplicate of batch 1, in batch 2
    lines[BATCH * 2 + 1] = "{not json"
    lines[BATCH * 2 + 2] = json.dumps({"title": "kurz", "text": "zu kurz"})
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def _run(settings: Settings, engine: MatchEngine, corpus: Path, *, pipelined: bool) -> dict[str, object]:
    async with running_app(settings, load_seeds=False, run_jobs=False, engine=engine) as app:
        reply = await app.handle(command("/subscribe Putin"))
        assert "Subscribed" in reply.messages[0].html
        if pipelined:
            report = await app.services.ingest.ingest_path(corpus)
        else:  # the same items in the same batches, stored and matched one batch at a time, strictly in sequence
            items = list(iter_path(corpus))
            report, start = IngestReport(), 0
            for count, _ in batch_sizes():  # the corpus' lines are short: batches end by count, not size
                if start >= len(items):
                    break
                report.extend(await app.services.ingest.ingest_items(items[start : start + count]))
                start += count
        return {
            "outcomes": [(o.source, o.status, o.reason, o.title) for o in report.outcomes],
            "counts": Counter(o.status for o in report.outcomes),
            "alerts": sum((await app.storage.outbox.status_counts()).values()),
            # the delivery order: batch k+1 is matched while batch k writes, and the rows keep the order
            "queue": [row[0] for row in await app.storage.db.fetch_all("SELECT article_id FROM outbox ORDER BY id")],
            "unmatched": await app.storage.articles.unmatched_ids(),
            "found": [a.title for a in await app.storage.articles.search("Projekt 2100", limit=5)],
            "archived": await app.storage.articles.count(),
        }


async def test_pipelined_ingest_equals_sequential_ingest(
    tmp_path: Path, settings: Settings, match_engine: MatchEngine
) -> None:
    # The two runs need two empty databases: one throw-away PostgreSQL database per test is shared by both, so
    # the comparison is made on two SQLite files (the ingest code under test does not depend on the dialect).
    corpus = _corpus(tmp_path / "corpus.jsonl")
    on = {
        name: settings.model_copy(update={"db_path": tmp_path / f"{name}.db", "database_url": None})
        for name in ("seq", "pipe")
    }
    expected = await _run(on["seq"], match_engine, corpus, pipelined=False)
    got = await _run(on["pipe"], match_engine, corpus, pipelined=True)
    assert got == expected
    # and the expectation itself is what the corpus holds
    assert expected["counts"] == {"new": ARTICLES - 3, "duplicate": 1, "rejected": 2}
    assert expected["archived"] == ARTICLES - 3
    putin = {n for n in range(ARTICLES) if n % 7 == 0} - {BATCH + 5, BATCH * 2 + 1, BATCH * 2 + 2}
    assert expected["alerts"] == len(putin)
    assert expected["unmatched"] == []
    assert expected["found"] == ["Meldung Nummer 2100"]


def test_batches_start_small_and_double_up_to_the_full_size() -> None:
    sizes = list(itertools.islice(batch_sizes(), 6))
    assert sizes[0] == (BATCH // 8, BATCH_CHARS // 8)  # matching starts after a few items, not a whole batch
    assert sizes[1:3] == [(BATCH // 4, BATCH_CHARS // 4), (BATCH // 2, BATCH_CHARS // 2)]
    assert sizes[3:] == [(BATCH, BATCH_CHARS)] * 3


def test_batches_of_long_articles_are_cut_by_size(tmp_path: Path) -> None:
    # 300 articles of about 3,500 characters: several batches, so matching one overlaps storing the next,
    # and a file of long lines never sits in memory a thousand at a time.
    body = " ".join(f"Wort{n % 97}" for n in range(500))
    lines = [json.dumps({"id": n, "title": f"Meldung {n}", "text": f"{body} {n}", "lang": "de"}) for n in range(300)]
    corpus = tmp_path / "long.jsonl"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stream = iter_path(corpus)
    sizes = []
    while batch := take_batch(stream, BATCH):
        sizes.append(len(batch))
        assert sum(len(item.draft.body) for item, _ in batch if item.draft) < BATCH_CHARS + 4_000
    assert sum(sizes) == 300 and len(sizes) == 300 * 3_500 // BATCH_CHARS + 1


async def test_a_bulk_import_tunes_the_interpreter_only_while_it_runs(tmp_path: Path) -> None:
    # Frozen objects are skipped by full collections; left frozen, garbage cycles among them would never be
    # freed. A short switch interval costs CPU in every threaded program. Without its own checkpoints the
    # writer lets the -wal file grow unless a checkpointer runs. So: frozen, switching often and checkpointed
    # beside the writer while the import runs, ordinary after it, even after a failed one.
    corpus = _corpus(tmp_path / "corpus.jsonl")
    storage = await Storage.open(tmp_path / "frozen.db")
    seen: list[int] = []

    async def listener(articles: list[Article]) -> None:
        seen.append(gc.get_freeze_count())
        call = len(seen)  # counted on entry: the next batch's call may begin while this one awaits below
        assert gc.get_threshold()[0] == BULK_GC_THRESHOLD
        assert sys.getswitchinterval() == pytest.approx(BULK_SWITCH_INTERVAL)
        assert await checkpoint_pages() == 0  # checkpoints beside the writer (bot.storage.checkpoints)
        if call == 2 and failing:
            raise RuntimeError("matching failed")

    failing = True

    async def checkpoint_pages() -> int:
        row = await storage.db.fetch_one("PRAGMA wal_autocheckpoint")
        return int(row[0]) if row else -1

    service = IngestService(storage, SystemClock(), listener)
    thresholds = gc.get_threshold()
    interval = sys.getswitchinterval()
    assert interval > BULK_SWITCH_INTERVAL  # Python's own 5 ms, or the test would prove nothing
    try:
        assert gc.get_freeze_count() == 0
        with pytest.raises(RuntimeError, match="matching failed"):
            await service.ingest_path(corpus)
        assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
        assert sys.getswitchinterval() == interval
        assert await checkpoint_pages() == WAL_CHECKPOINT_PAGES
        assert seen and all(count > 0 for count in seen)
        stored_before = await storage.articles.count()  # the import stopped at the failure
        assert stored_before < ARTICLES - 3
        failing = False
        report = await service.ingest_path(corpus)  # the rest of what the failed run left unstored
        assert report.count("new") == ARTICLES - 3 - stored_before
        assert await storage.articles.count() == ARTICLES - 3 and all(count > 0 for count in seen)
        assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
        assert sys.getswitchinterval() == interval
    finally:
        await storage.close()
