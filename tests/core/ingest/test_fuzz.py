"""Whatever bytes arrive, parsing answers with items and reasons, never with an exception."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.ingest import content_hash, derive_title, detect_language, parse_document, parse_feed_bytes
from bot.core.ingest.markdown import parse_markdown

pytestmark = pytest.mark.reliability

NAMES = st.sampled_from(
    [
        "a.txt",
        "a.md",
        "a.html",
        "a.jsonl",
        "a.json",
        "a.xml",
        "a.rss",
        "a.atom",
        "a.txt.gz",
        "a.jsonl.gz",
        "upload",
        "a.exe",
    ]
)
FRAGMENTS = st.sampled_from(
    [
        b"date 2023-09-04\n",
        b"# Titel\n",
        b'{"text": "Kim trifft Putin in Wladiwostok zu Gespr\xc3\xa4chen \xc3\xbcber Waffen.", "date": "x"}\n',
        b"{broken\n",
        b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>Kim</title>',
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [',
        b"<html><body><nav>x</nav><p>",
        b"Nordkoreas Diktator Kim Jong-Un verl\xe4sst sein Land nur ungern. ",
        b"\x00",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
        b"\r\n\r\n",
    ]
)
DOCUMENTS = st.one_of(st.binary(max_size=2000), st.lists(FRAGMENTS | st.binary(max_size=40), max_size=12).map(b"".join))
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(name=NAMES, data=DOCUMENTS, gzipped=st.booleans())
def test_parse_document_never_raises(name: str, data: bytes, gzipped: bool) -> None:
    items = parse_document(name, gzip.compress(data) if gzipped else data)
    assert items
    for item in items:
        assert item.status in {"ok", "repaired", "rejected"}
        assert (item.draft is None) == (item.status == "rejected")
        assert item.reason or item.status == "ok"
        assert "\n" not in item.reason
        if item.draft is not None:
            assert item.draft.title and len(item.draft.title) <= 120
            assert item.draft.body.strip() == item.draft.body
            assert item.draft.lang in {"de", "en"} or item.draft.lang.isalpha()
            assert len(content_hash(item.draft)) == 64


@FUZZ
@given(data=DOCUMENTS)
def test_parse_feed_bytes_never_raises(data: bytes) -> None:
    feed = parse_feed_bytes(data, source="https://example.org/feed")
    assert feed.error is None or feed.items == []
    assert feed.drafts() is not None


@FUZZ
@given(text=st.text(max_size=500))
def test_text_helpers_never_raise(text: str) -> None:
    assert len(derive_title(text)) <= 120
    assert detect_language(text) in {"de", "en"}
    parse_markdown(text)
