"""iter_path over real temporary files: every format, folders, and every kind of bad input."""

from __future__ import annotations

import gzip
import json
import os
from datetime import date
from pathlib import Path

import pytest

from bot.core.ingest import ParsedItem, iter_path

ARTICLE = (
    "Nordkoreas Diktator Kim Jong-Un verlässt sein Land nur ungern. Jetzt soll er aber laut einem "
    "Medienbericht nach Russland reisen. Hauptthema seines möglichen Treffens mit Kremlchef Putin: "
    "Nachschub für den Ukraine-Krieg."
)
MB = 1024 * 1024


def _items(path: Path, **kwargs: int) -> list[ParsedItem]:
    return list(iter_path(path, **kwargs))


def _one(path: Path, **kwargs: int) -> ParsedItem:
    items = _items(path, **kwargs)
    assert len(items) == 1, items
    return items[0]


def _write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_seed_text_file(tmp_path: Path) -> None:
    item = _one(_write(tmp_path, "kim.txt", f"date 2023-09-04\n{ARTICLE}\n"))
    assert (item.source, item.status, item.reason) == (f"{tmp_path}/kim.txt", "ok", "")
    assert item.draft is not None
    assert (item.draft.published, item.draft.lang, item.draft.source) == (date(2023, 9, 4), "de", "kim.txt")


def test_folder_is_recursive_sorted_and_skips_hidden_files(tmp_path: Path) -> None:
    for name in ("b.txt", "a/z.md", "a/c.txt", ".hidden.txt", ".git/d.txt", "a/.e.txt"):
        _write(tmp_path, name, ARTICLE.replace("Kim", name))
    sources = [item.source for item in _items(tmp_path)]
    assert sources == [f"{tmp_path}/a/c.txt", f"{tmp_path}/a/z.md", f"{tmp_path}/b.txt"]


def test_empty_folder_yields_nothing(tmp_path: Path) -> None:
    assert _items(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"  \n\t\r\n  \n", "file contains only whitespace"),
        ("blank.md", b"\n\n", "file contains only whitespace"),
        ("binary.txt", b"GIF89a\x00\x01\x02" + bytes(range(256)), "binary file (GIF image)"),
        ("nul.txt", ARTICLE.encode() + b"\x00\x00\x00", "binary file (contains NUL bytes)"),
        ("tiny.txt", b"Kurz. Zu kurz!", "text too short to be an article (12 characters of words, need at least 40)"),
        ("notes.pdf", b"%PDF-1.4", "unsupported file type '.pdf'; supported: "),
        ("README", b"hello", "unsupported file type (no extension); supported: "),
        ("fake.txt.gz", ARTICLE.encode(), "not a gzip file (the name ends in .gz)"),
        ("corrupt.txt.gz", gzip.compress(ARTICLE.encode(), mtime=0)[:30], "corrupt gzip file: "),
        ("corpus.jsonl", b"\n\n  \n", "file contains only whitespace"),
        ("bin.jsonl", b"\x00\x01\x02{}", "binary file (contains NUL bytes)"),
        ("bad.xml", b"<html><body>not a feed</body></html>", "not a valid feed: "),
    ],
)
def test_bad_files_are_rejected_with_a_reason(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    item = _one(_write(tmp_path, name, data))
    assert item.status == "rejected" and item.draft is None
    assert item.reason.startswith(reason), item.reason


def test_cp1252_file_is_repaired(tmp_path: Path) -> None:
    item = _one(_write(tmp_path, "alt.txt", ARTICLE.encode("cp1252")))
    assert (item.status, item.reason) == ("repaired", "decoded as cp1252")
    assert item.draft is not None and "verlässt" in item.draft.body


def test_bad_date_header_keeps_the_article(tmp_path: Path) -> None:
    item = _one(_write(tmp_path, "d.txt", f"date 2023-13-99\n{ARTICLE}"))
    assert item.status == "repaired"
    assert item.reason == "ignored bad date header '2023-13-99' (no such date)"
    assert item.draft is not None and item.draft.published is None and item.draft.body == ARTICLE


def test_repairs_are_combined(tmp_path: Path) -> None:
    item = _one(_write(tmp_path, "d.txt", f"date bald\n{ARTICLE}".encode("cp1252")))
    assert item.reason == "decoded as cp1252; ignored bad date header 'bald' (want YYYY-MM or YYYY-MM-DD)"


def test_too_large_file_is_rejected_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(50 * MB)  # sparse: 50 MB on paper, nothing written
    assert _one(path).reason == "file too large: 50.0 MB > 20 MB limit"
    assert _one(path, max_bytes=60 * MB).reason == "binary file (contains NUL bytes)"


def test_gzip_bomb_is_stopped_at_the_limit(tmp_path: Path) -> None:
    path = _write(tmp_path, "bomb.txt.gz", gzip.compress(b"Wort " * (2 * MB)))
    assert _one(path, max_bytes=MB).reason == "file too large: decompressed content exceeds the 1 MB limit"


def test_gzipped_text_and_markdown(tmp_path: Path) -> None:
    _write(tmp_path, "a.txt.gz", gzip.compress(ARTICLE.encode()))
    _write(tmp_path, "b.md.gz", gzip.compress(f"# Titel\n\n{ARTICLE}".encode()))
    drafts = [item.draft for item in _items(tmp_path)]
    assert [d.title for d in drafts if d] == ["Nordkoreas Diktator Kim Jong-Un verlässt sein Land nur ungern", "Titel"]


def _jsonl(records: list[object]) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records)


def test_jsonl_bad_lines_are_rejected_and_the_rest_kept(tmp_path: Path) -> None:
    lines = [
        {
            "id": "a1",
            "title": "Kim trifft Putin",
            "text": ARTICLE,
            "date": "2023-09-04",
            "lang": "de",
            "url": "https://x/1",
        },
        b'{"id": "broken", "text": ',
        {"id": "a3", "title": "Ohne Text", "text": None},
        {"id": "a4", "title": None, "text": ARTICLE + " Noch mehr.", "date": "gestern"},
        b"",
        b'["not", "an", "object"]',
        {"id": "a7", "text": 42},
        {"id": "a8", "title": "Zu kurz", "text": "Kurz."},
        {"id": "a9", "text": ARTICLE + " Ende.", "lead": "Kim reist. Zu Putin."},
    ]
    path = _write(
        tmp_path,
        "corpus.jsonl",
        _jsonl(lines) + b'{"text": "Gr\xfc\xdfe aus M\xfcnchen: ' + ARTICLE.encode("cp1252") + b'"}\n',
    )
    items = _items(path)
    got = [(item.source.rsplit("/", 1)[1], item.status, item.reason) for item in items]
    assert got == [
        ("corpus.jsonl:1", "ok", ""),
        ("corpus.jsonl:2", "rejected", "invalid JSON: Expecting value (column 26)"),
        ("corpus.jsonl:3", "rejected", "no text (the record has no 'text' field or it is empty)"),
        ("corpus.jsonl:4", "repaired", "ignored unrecognised date 'gestern'"),
        ("corpus.jsonl:6", "rejected", "expected a JSON object, got an array"),
        ("corpus.jsonl:7", "rejected", "'text' must be a string, got a number"),
        ("corpus.jsonl:8", "rejected", "text too short to be an article (12 characters of words, need at least 40)"),
        ("corpus.jsonl:9", "ok", ""),
        ("corpus.jsonl:10", "repaired", "decoded as cp1252"),
    ]
    first = items[0].draft
    assert first is not None
    assert (first.title, first.published, first.lang, first.url, first.guid, first.source) == (
        "Kim trifft Putin",
        date(2023, 9, 4),
        "de",
        "https://x/1",
        "a1",
        "corpus.jsonl",
    )
    assert items[3].draft is not None and items[3].draft.title.startswith("Nordkoreas Diktator")
    assert items[7].draft is not None and items[7].draft.title == "Kim reist"  # derived from the lead
    assert items[8].draft is not None and items[8].draft.body.startswith("Grüße aus München")


def test_jsonl_gz_streams_and_flags_short_texts_as_teasers(tmp_path: Path) -> None:
    records = [
        {"title": f"Headline {n} about Putin and Kim", "text": "A short teaser of a news item.", "lang": "en"}
        for n in range(500)
    ]
    records.append({"title": "Long", "text": ARTICLE * 4, "teaser_only": False})
    path = _write(tmp_path, "rss.jsonl.gz", gzip.compress(_jsonl(records)))
    items = _items(path)
    assert len(items) == 501 and all(item.status == "ok" for item in items)
    assert all(item.draft and item.draft.teaser_only for item in items[:500])
    assert items[500].draft is not None and not items[500].draft.teaser_only


def test_corrupt_gzip_stream_keeps_earlier_lines(tmp_path: Path) -> None:
    records = [{"text": f"{ARTICLE} Nummer {n}."} for n in range(2000)]
    data = gzip.compress(_jsonl(records))
    path = _write(tmp_path, "cut.jsonl.gz", data[: len(data) // 2])
    items = _items(path)
    assert items[0].status == "ok"
    assert items[-1].status == "rejected" and "corrupt from here on" in items[-1].reason
    assert 1 < len(items) < 2001


def test_overlong_jsonl_line_is_rejected_and_reading_continues(tmp_path: Path) -> None:
    huge = json.dumps({"text": "x" * (5 * MB)}).encode()
    path = _write(tmp_path, "long.jsonl", huge + b"\n" + _jsonl([{"text": ARTICLE}]))
    items = _items(path)
    assert [(i.status, i.reason) for i in items] == [("rejected", "line too long (over 4 MB)"), ("ok", "")]


def test_missing_paths_and_special_files(tmp_path: Path) -> None:
    assert _one(tmp_path / "nope.txt").reason == "no such file (a broken link?)"
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    assert _one(tmp_path / "dangling.txt").reason == "no such file (a broken link?)"
    os.mkfifo(tmp_path / "pipe.txt")
    assert _one(tmp_path / "pipe.txt").reason == "not a regular file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "secret.txt", ARTICLE)
    path.chmod(0)
    assert _one(path).reason == "cannot read file: permission denied"


def test_a_bad_file_does_not_stop_the_batch(tmp_path: Path) -> None:
    _write(tmp_path, "1.txt", ARTICLE)
    _write(tmp_path, "2.txt", b"\x00\x01")
    _write(tmp_path, "3.bin", b"whatever")
    _write(tmp_path, "4.jsonl", b"{oops\n" + _jsonl([{"text": ARTICLE}]))
    _write(tmp_path, "5.txt", ARTICLE + " Ende.")
    assert [i.status for i in _items(tmp_path)] == ["ok", "rejected", "rejected", "rejected", "ok", "ok"]
