"""Turning files and feeds into :class:`~bot.core.models.ArticleDraft` objects (no storage here).

Everything here is synchronous and may read files: call it from a worker thread in async code.
"""

from bot.core.ingest.documents import parse_document, sniff_format, supported_types
from bot.core.ingest.feeds import FeedEntry, FeedParse, parse_feed_bytes
from bot.core.ingest.files import DEFAULT_MAX_BYTES, iter_file, iter_files, iter_path
from bot.core.ingest.items import ParsedItem
from bot.core.ingest.lang import detect_language, normalise_lang
from bot.core.ingest.seed import SeedText, parse_seed_text
from bot.core.ingest.text import content_hash, derive_title

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FeedEntry",
    "FeedParse",
    "ParsedItem",
    "SeedText",
    "content_hash",
    "derive_title",
    "detect_language",
    "iter_file",
    "iter_files",
    "iter_path",
    "normalise_lang",
    "parse_document",
    "parse_feed_bytes",
    "parse_seed_text",
    "sniff_format",
    "supported_types",
]
