"""A large corpus is read by a child process: the import must be exactly that of the reading thread, and the
child must never outlive the import, whether it finishes, fails or the child itself dies."""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.clock import FakeClock
from bot.core.models import Article
from bot.services import ingest_reader
from bot.services.ingest import IngestService
from bot.services.ingest_reader import (
    ProcessReader,
    ReaderProcessError,
    ThreadReader,
    _read_in_child,
    open_reader,
)
from bot.storage.store import Storage
from tests.services.test_ingest_pipeline import ARTICLES, _corpus, _record

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _readers() -> list[str]:
    return [child.name for child in multiprocessing.active_children() if child.name == "newsalert-reader"]


def _large_corpus(path: Path, lines: int = 20_000) -> Path:
    """Far more batches than the child can hold in the pipe: it is still reading when the first is matched."""
    path.write_text("\n".join(json.dumps(_record(n), ensure_ascii=False) for n in range(lines)) + "\n", "utf-8")
    return path


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """The process ids of the child readers started."""
    started: list[int | None] = []
    start = ProcessReader.start.__func__  # type: ignore[attr-defined]

    async def recording(cls: type[ProcessReader], path: Path, max_bytes: int | None) -> ProcessReader:
        reader: ProcessReader = await start(cls, path, max_bytes)
        started.append(reader.pid)
        return reader

    monkeypatch.setattr(ProcessReader, "start", classmethod(recording))
    return started


async def _import(tmp_path: Path, name: str, corpus: Path, child_min_bytes: int | None) -> dict[str, object]:
    storage = await Storage.open(tmp_path / f"{name}.db")
    seen: list[tuple[object, ...]] = []

    async def listener(articles: list[Article]) -> None:
        seen.extend((a.id, a.content_hash, a.title, a.body, a.lang, a.published, a.url, a.guid) for a in articles)

    service = IngestService(storage, FakeClock(START), listener, child_reader_min_bytes=child_min_bytes)
    try:
        report = await service.ingest_path(corpus)
        return {
            "outcomes": [(o.source, o.status, o.reason, o.article_id, o.title) for o in report.outcomes],
            "matched": seen,
            "archived": await storage.articles.count(),
        }
    finally:
        await storage.close()


async def test_a_child_reads_a_corpus_exactly_as_the_thread_does(tmp_path: Path, children: list[int | None]) -> None:
    corpus = _corpus(tmp_path / "corpus.jsonl")  # three batches, a duplicate, invalid JSON, a too-short item
    in_thread = await _import(tmp_path, "thread", corpus, None)
    assert children == []
    in_child = await _import(tmp_path, "child", corpus, 0)
    assert len(children) == 1
    assert in_child == in_thread
    assert in_child["archived"] == ARTICLES - 3 and len(in_child["matched"]) == ARTICLES - 3  # type: ignore[arg-type]
    assert _readers() == []  # joined when the file was done


async def test_a_failed_import_stops_its_reader(tmp_path: Path, children: list[int | None]) -> None:
    corpus = _large_corpus(tmp_path / "large.jsonl")
    storage = await Storage.open(tmp_path / "failed.db")
    alive: list[list[str]] = []

    async def listener(articles: list[Article]) -> None:
        alive.append(_readers())
        raise RuntimeError("matching failed")

    service = IngestService(storage, FakeClock(START), listener, child_reader_min_bytes=0)
    try:
        with pytest.raises(RuntimeError, match="matching failed"):
            await service.ingest_path(corpus)
        assert len(children) == 1 and alive[0] == ["newsalert-reader"]  # still reading when matching failed
        assert _readers() == []  # and stopped with the import
        assert await storage.articles.count() < 5_000
    finally:
        await storage.close()


async def test_a_reader_that_dies_is_an_error_not_a_short_import(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus.jsonl")
    reader = await ProcessReader.start(corpus, None)
    try:
        assert await reader.next_batch()
        assert reader.pid is not None
        os.kill(reader.pid, signal.SIGKILL)
        with pytest.raises(ReaderProcessError, match="ended unexpectedly"):
            for _ in range(10):  # one batch may already be in the pipe
                await reader.next_batch()
    finally:
        await reader.aclose()
    assert _readers() == []


def test_an_error_in_the_child_reaches_the_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(path: Path, **_: object) -> Iterator[object]:
        raise ValueError(f"cannot read {path.name}")
        yield

    monkeypatch.setattr(ingest_reader, "iter_path", broken)
    monkeypatch.setattr(ingest_reader.os, "nice", lambda _: 0)  # this is the test process, not a child
    monkeypatch.setattr(ingest_reader.signal, "signal", lambda *_: None)
    receiving, sending = multiprocessing.Pipe(duplex=False)
    _read_in_child(str(tmp_path / "corpus.jsonl"), None, sending)
    error = pickle.loads(receiving.recv_bytes())
    assert isinstance(error, ValueError) and str(error) == "cannot read corpus.jsonl"


async def test_only_a_large_json_lines_file_gets_a_child(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus.jsonl")
    text = tmp_path / "article.txt"
    text.write_text("Ein Artikel. " * 40, encoding="utf-8")
    size = corpus.stat().st_size
    cases = {
        (corpus, size): ProcessReader,
        (corpus, size + 1): ThreadReader,
        (corpus, None): ThreadReader,
        (text, 0): ThreadReader,  # documents are read whole, and may log: they stay in the thread
        (tmp_path, 0): ThreadReader,  # a folder
        (tmp_path / "missing.jsonl", 0): ThreadReader,  # reported as a rejected item by the reader
    }
    for (path, min_bytes), kind in cases.items():
        reader = await open_reader(path, max_bytes=None, child_min_bytes=min_bytes)
        try:
            assert type(reader) is kind, (path.name, min_bytes)
        finally:
            await reader.aclose()


async def test_without_a_reader_process_the_thread_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def refused(cls: type[ProcessReader], path: Path, max_bytes: int | None) -> ProcessReader:
        raise BlockingIOError(11, "Resource temporarily unavailable")  # fork/exec over the process limit

    monkeypatch.setattr(ProcessReader, "start", classmethod(refused))
    corpus = _corpus(tmp_path / "corpus.jsonl")
    reader = await open_reader(corpus, max_bytes=None, child_min_bytes=0)
    try:
        assert type(reader) is ThreadReader and len(await reader.next_batch()) > 0
    finally:
        await reader.aclose()
    assert "cannot start a reader process" in caplog.text
