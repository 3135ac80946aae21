"""Every message at a call site (and every command's /help line) has its German translation, with the same
placeholders."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.core.i18n import DEFAULT_LANG, LANGUAGES, LOCALES_DIR, Translator
from handlers.registry import build_registry

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"t": None, "N_": None, "plural": (1, 2)}
METHOD_MAP = [("**.py", "python")]


def _source_messages() -> dict[str, tuple[str, ...]]:
    """msgid → (msgid, plural msgid?) for every marked message in the product's code."""
    found: dict[str, tuple[str, ...]] = {}
    for package in ("bot", "handlers", "config"):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / package, METHOD_MAP, keywords=KEYWORDS, comment_tags=()
        ):
            ids = tuple(message) if isinstance(message, tuple) else (message,)
            if ids and ids[0]:
                found[ids[0]] = ids
    # /help lines and the Telegram command menu are the handlers' docstrings, translated where shown.
    for spec in build_registry().ordered:
        found[spec.help_en] = (spec.help_en,)
    return found


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _catalog(lang: str):
    with (LOCALES_DIR / lang / "LC_MESSAGES" / "newsalert.po").open("rb") as handle:
        return read_po(handle, locale=lang)


TRANSLATED = [lang for lang in LANGUAGES if lang != DEFAULT_LANG]


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_with_the_same_placeholders(lang: str) -> None:
    catalog = _catalog(lang)
    problems: list[str] = []
    for msgid, ids in _source_messages().items():
        entry = catalog.get(msgid)
        if entry is None or not entry.string or (isinstance(entry.string, tuple) and not all(entry.string)):
            problems.append(f"untranslated: {msgid!r}")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        translations = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        expected = set().union(*(_fields(i) for i in ids))
        for text in translations:
            got = _fields(text)
            # A plural form may leave out {n} ("ein Artikel"), never add or rename a placeholder.
            if got - expected or (expected - got) - {"n"}:
                problems.append(f"placeholders differ: {msgid!r} → {text!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalog_has_no_stale_or_duplicate_entries(lang: str) -> None:
    source = _source_messages()
    catalog = _catalog(lang)
    stale = [m.id for m in catalog if m.id and (m.id[0] if isinstance(m.id, tuple) else m.id) not in source]
    assert not stale, f"messages no longer in the code: {stale}"


def test_plural_forms_follow_the_language() -> None:
    en, de = Translator("en"), Translator("de")
    assert en.plural("{n} new article", "{n} new articles", 1) == "1 new article"
    assert en.plural("{n} new article", "{n} new articles", 2) == "2 new articles"
    assert en.number(12345) == "12,345"
    assert de.number(12345) == "12.345"


def test_command_prefix_placeholder() -> None:
    assert Translator("en", "!")("Send {p}help") == "Send !help"
    assert Translator("en")("Send {p}help") == "Send /help"
