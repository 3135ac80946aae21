"""The pure feed rules: URL and address safety, poll timing, backoff, change detection, OPML."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.feeds import (
    OpmlError,
    OpmlFeed,
    UnsafeUrl,
    address_refusal,
    backoff_seconds,
    check_feed_url,
    export_opml,
    is_substantial_change,
    item_fingerprint,
    item_key,
    parse_cache_max_age,
    parse_opml,
    parse_retry_after,
    poll_interval,
    token_similarity,
)
from bot.core.feeds.policy import MAX_BACKOFF_SECONDS, MAX_HINT_SECONDS

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("192.168.1.20", "private"),
        ("172.16.0.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not a public address"),
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_refusal(address: str, refused: str | None) -> None:
    why = address_refusal(address, allow_private=False)
    assert (why is None) if refused is None else (why is not None and refused in why)
    assert address_refusal(address, allow_private=True) is None


def test_check_feed_url_keeps_good_urls() -> None:
    assert check_feed_url("  https://example.org/feed.xml?x=1  ") == "https://example.org/feed.xml?x=1"
    assert check_feed_url("HTTP://Example.org:8080/Rss#top") == "http://example.org:8080/Rss"
    assert check_feed_url("https://[2001:DB8::1]/feed") == "https://[2001:db8::1]/feed"
    with pytest.raises(UnsafeUrl, match="spaces"):
        check_feed_url("http://example.org/a b")
    with pytest.raises(UnsafeUrl, match="longer than"):
        check_feed_url("http://example.org/" + "a" * 3000)


def test_poll_interval_hints_only_slow_down_within_bounds() -> None:
    assert poll_interval(600) == 600
    assert poll_interval(600, ttl_minutes=5) == 600  # a short ttl does not make us poll faster
    assert poll_interval(600, ttl_minutes=60) == 3600
    assert poll_interval(600, max_age_seconds=900) == 900
    assert poll_interval(600, ttl_minutes=30, max_age_seconds=2400) == 2400
    assert poll_interval(600, ttl_minutes=7 * 24 * 60) == MAX_HINT_SECONDS
    assert poll_interval(30_000, ttl_minutes=24 * 60) == 30_000  # never below the configured default


def test_cache_control_and_retry_after() -> None:
    assert parse_cache_max_age("public, max-age=300") == 300
    assert parse_cache_max_age("max-age=300, s-maxage=900") == 900
    assert parse_cache_max_age("no-cache, max-age=300") is None
    assert parse_cache_max_age("private") is None and parse_cache_max_age(None) is None
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after("Mon, 02 Mar 2026 12:10:00 GMT", NOW) == 600
    assert parse_retry_after("soon", NOW) is None


@given(failures=st.integers(min_value=1, max_value=200), seed=st.integers(0, 2**32))
def test_backoff_grows_with_jitter_and_stays_capped(failures: int, seed: int) -> None:
    delay = backoff_seconds(failures, 600, random.Random(seed))
    step = min(600 * 2 ** (failures - 1), MAX_BACKOFF_SECONDS)
    assert step / 2 <= delay <= step


def test_backoff_honours_retry_after_within_the_cap() -> None:
    rng = random.Random(1)
    assert backoff_seconds(1, 60, rng, retry_after=3600) == 3600
    assert backoff_seconds(1, 60, rng, retry_after=10**9) == MAX_BACKOFF_SECONDS


def test_item_identity() -> None:
    assert item_key(" g1 ", "http://x/1", "T") == "guid:g1"
    assert item_key(None, "http://x/1", "T") == "link:http://x/1"
    assert item_key("", "", "Titel") == item_key(None, None, "  titel ")
    assert item_key(None, None, "  ") is None
    assert item_fingerprint("A  title", "Some\ntext") == item_fingerprint("a title", "some text")
    assert item_fingerprint("A title", "Some text") != item_fingerprint("A title", "Other text")


BASE = (
    "Im Hafen von Rostock haben am Montagmorgen mehrere hundert Beschäftigte die Arbeit niedergelegt. "
    "Die Gewerkschaft fordert acht Prozent mehr Lohn und eine kürzere Wochenarbeitszeit."
)


def test_substantial_change() -> None:
    assert not is_substantial_change("Streik", BASE, "Streik", BASE.replace("acht", "neun"))
    assert not is_substantial_change("Streik", BASE, "Streik", BASE + " (aktualisiert 14:05)")
    assert is_substantial_change("Streik", BASE, "Streik beendet", BASE)
    assert is_substantial_change(
        "Streik",
        BASE,
        "Streik",
        BASE + " Die Polizei räumte am Abend das Gelände "
        "und nahm zwölf Demonstranten fest, darunter den Betriebsratschef.",
    )
    assert token_similarity("", "") == 1.0 and token_similarity("a", "") == 0.0


def test_opml_export_escapes_and_reads_back() -> None:
    feeds = [
        OpmlFeed("https://example.org/rss?a=1&b=<2>", 'Titel mit "Zitat" & <Tag>'),
        OpmlFeed("http://x/y"),
    ]
    data = export_opml(feeds, created=NOW)
    assert data.startswith(b"<?xml") and b"Mon, 02 Mar 2026 12:00:00 GMT" in data
    assert [(f.url, f.title) for f in parse_opml(data)] == [
        ("https://example.org/rss?a=1&b=<2>", 'Titel mit "Zitat" & <Tag>'),
        ("http://x/y", "http://x/y"),
    ]


def test_opml_tolerates_case_namespaces_and_limits() -> None:
    data = b'<opml xmlns="http://opml.org/spec2"><body><outline XMLURL="http://a/1" TEXT="A"/></body></opml>'
    assert parse_opml(data) == [OpmlFeed("http://a/1", "A")]
    many = (
        b"<opml><body>"
        + b"".join(b'<outline xmlUrl="http://a/%d"/>' % n for n in range(5))
        + b"</body></opml>"
    )
    with pytest.raises(OpmlError, match="more than 3 feeds"):
        parse_opml(many, max_feeds=3)
