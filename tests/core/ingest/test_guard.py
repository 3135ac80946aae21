"""The pre-parse limits refuse what is built to exhaust a parser, and nothing an honest document does."""

from __future__ import annotations

from bot.core.ingest.guard import MAX_MARKUP_DEPTH, depth_refusal, json_refusal, xml_refusal


def test_honest_shapes_pass() -> None:
    links = b'<link rel="alternate" href="https://example.org/a"/>' * 5000  # self-closing: no depth
    paragraphs = b"<p>Absatz" * 3000  # paragraphs left open, as HTML allows
    escaped = b"&lt;div&gt;text&lt;/div&gt;" * 3000
    doctype = b'<!DOCTYPE rss [<!ENTITY copy "&#169;"><!ENTITY id "tag:example.com,">]>'
    feed = doctype + b"<rss><channel>" + links + paragraphs + escaped + b"&copy; &id;</channel></rss>"
    assert xml_refusal(feed) is None
    assert json_refusal(b'[{"title": "Hafenstreik", "text": "Die Besch\\u00e4ftigten streiken weiter."}]') is None


def test_depth_counts_raw_and_escaped_markup_separately() -> None:
    deep = b"<div>" * (MAX_MARKUP_DEPTH + 1)
    assert depth_refusal(deep) == f"markup nested more than {MAX_MARKUP_DEPTH} levels deep"
    assert depth_refusal(b"&lt;span&gt;" * (MAX_MARKUP_DEPTH + 1)) is not None
    assert depth_refusal((b"<div>" + b"&lt;/div&gt;") * (MAX_MARKUP_DEPTH + 1)) is not None  # no cross-cancelling
    assert depth_refusal(b"<div></div>" * 100_000) is None


def test_entity_tricks_are_refused() -> None:
    nested = b'<!DOCTYPE r [<!ENTITY a "x"><!ENTITY b "&a;&a;">]><r>&b;</r>'
    assert "other entities" in (xml_refusal(nested) or "")
    assert "other entities" in (xml_refusal(b'<!DOCTYPE r [<!ENTITY % p "x"> %p;]><r/>') or "")
    assert xml_refusal(b'<!DOCTYPE r [<!ENTITY % p "<!ENTITY a \'x\'>"> %p;]><r/>') is not None
    unreadable = b"<!DOCTYPE r [<!ENTITY a>]><r/>"
    assert xml_refusal(unreadable) == "unreadable XML entity declaration"
    external = b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>'
    assert xml_refusal(external) is None  # never resolved by the parser, so nothing to refuse here


def test_container_only_json_is_refused() -> None:
    assert json_refusal(b"[" + b"{}," * 100_000 + b"{}]") is not None
