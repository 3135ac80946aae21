"""The floor the ingest benchmark compares against: the same corpus file loaded the plainest way.

``json.loads`` per line, 1,000 records per transaction inserted as multi-row ``INSERT … VALUES`` statements
of 500 rows (the archive's own insert: FTS5 writes its pending terms at the end of every statement, so an
``executemany``, one statement per row, pays about 2.5 times the FTS work), into a table with the archive's
FTS5 index (same tokenizer, filled by the same kind of trigger) and the archive's journal settings. No
validation, no language detection, no dedupe, no matching: what any loader of this file must at least pay,
measured in the same run so a busy machine slows both alike.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BATCH = 1_000
STATEMENT_ROWS = 500
_SCHEMA = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, content='articles', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN"
    " INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
)


@dataclass(frozen=True, slots=True)
class PlainLoad:
    rows: int
    seconds: float  # wall clock, like the pipeline's figure
    cpu_seconds: float  # this process's CPU time (all threads): steadier than wall on a shared machine


def plain_load(corpus: Path, database: Path) -> PlainLoad:
    """Load ``corpus`` (``.jsonl`` or ``.jsonl.gz``) into a fresh ``database`` file the plain way."""
    database.unlink(missing_ok=True)
    started, cpu_started = time.perf_counter(), time.process_time()
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        for statement in _SCHEMA:
            conn.execute(statement)
        rows = 0
        for batch in _batches(corpus):
            conn.execute("BEGIN")
            for start in range(0, len(batch), STATEMENT_ROWS):
                part = batch[start : start + STATEMENT_ROWS]
                values = ",".join(["(?, ?)"] * len(part))
                conn.execute(f"INSERT INTO articles(title, body) VALUES {values}", [v for row in part for v in row])
            conn.execute("COMMIT")
            rows += len(batch)
    finally:
        conn.close()
    return PlainLoad(rows, time.perf_counter() - started, time.process_time() - cpu_started)


def _batches(corpus: Path) -> Iterator[list[tuple[str, str]]]:
    opener = gzip.open if corpus.name.endswith(".gz") else open
    batch: list[tuple[str, str]] = []
    with opener(corpus, "rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line)
            batch.append((str(record.get("title") or record.get("lead") or ""), str(record.get("text") or "")))
            if len(batch) >= BATCH:
                yield batch
                batch = []
    if batch:
        yield batch
