"""The reading stage of a bulk import gives the same batches in a thread and in a child process, cuts batches
of long articles by size, and never leaves a child behind."""

from __future__ import annotations

import json
from pathlib import Path

from bot.services.reader import BATCH, BATCH_CHARS, ProcessReader, ReaderError, ThreadReader, open_reader


def _corpus(path: Path, count: int, words: int) -> Path:
    body = " ".join(f"Wort{n % 97}" for n in range(words))
    lines = [json.dumps({"id": n, "title": f"Meldung {n}", "text": f"{body} {n}", "lang": "de"}) for n in range(count)]
    lines.insert(3, "{broken")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _batches(reader: ThreadReader | ProcessReader) -> list[list[tuple[str, str, str | None]]]:
    try:
        out = []
        while batch := reader.next_batch():
            out.append([(item.source, item.status, digest) for item, digest in batch])
        return out
    finally:
        reader.close()


def test_process_and_thread_give_the_same_batches(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "c.jsonl", BATCH + 300, 10)
    in_thread = _batches(ThreadReader(corpus, None))
    assert [len(b) for b in in_thread] == [BATCH, 301]
    assert in_thread[0][3][1:] == ("rejected", None)
    assert _batches(ProcessReader(corpus, None)) == in_thread


def test_long_articles_come_in_smaller_batches(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "long.jsonl", 300, 500)  # about 3,500 characters each
    sizes = [len(b) for b in _batches(ThreadReader(corpus, None))]
    assert sum(sizes) == 301 and len(sizes) > 1
    assert max(sizes) <= BATCH_CHARS // 3_000 + 1


def test_closing_early_ends_the_child(tmp_path: Path) -> None:
    reader = ProcessReader(_corpus(tmp_path / "c.jsonl", BATCH * 3, 10), None)
    assert len(reader.next_batch()) == BATCH
    reader.close()
    assert not reader._process.is_alive()


def test_a_child_that_dies_is_an_error_not_an_end(tmp_path: Path) -> None:
    reader = ProcessReader(_corpus(tmp_path / "c.jsonl", BATCH * 3, 10), None)
    try:
        reader._process.kill()
        reader._process.join()
        seen = 0
        try:
            while reader.next_batch():  # batches already in the pipe may still arrive
                seen += 1
        except ReaderError as exc:
            assert "stopped unexpectedly" in str(exc)
        else:
            raise AssertionError(f"{seen} batches, then a silent end")
    finally:
        reader.close()


def test_small_inputs_are_read_in_a_thread(tmp_path: Path) -> None:
    reader = open_reader(_corpus(tmp_path / "c.jsonl", 10, 10), None)
    try:
        assert isinstance(reader, ThreadReader)
    finally:
        reader.close()
