"""Turning one query term into something the scanner can look for: a lexicon entry or free-text forms."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import simplemma

from bot.core.matching.lexicon import Form, Lexicon
from bot.core.matching.normalize import STOPWORDS, normalize
from bot.core.matching.query import QueryError, Term
from bot.core.matching.scanner import ENDINGS_DE

log = logging.getLogger(__name__)

MIN_COMPOUND_TAIL = 5  # a free-text word this long may close a German compound ("Gipfel|treffen")
MIN_TRANSLITERATED = 5

# German and English spellings of Slavic, Korean, Arabic… names differ by a few systematic rules.
# Replacements are written in capitals so that a later rule cannot rewrite an earlier one's output.
_DE_TO_EN = (("schtsch", "SHCH"), ("tsch", "CH"), ("sch", "SH"), ("ch", "KH"), ("w", "V"), ("j", "Y"))
_EN_TO_DE = (
    ("shch", "SCHTSCH"),
    ("zh", "SCH"),
    ("sh", "SCH"),
    ("kh", "CH"),
    ("ch", "TSCH"),
    ("v", "W"),
    ("y", "J"),
)


@dataclass(frozen=True, slots=True)
class Atom:
    """A resolved query term."""

    key: str  # "entity:<id>" or "text:<normalised phrase>"
    label: str  # what the user typed, or the entity's name
    entry_id: str | None = None
    forms: tuple[Form, ...] = ()  # free text only
    matched_lang: str | None = None  # language of the lexicon name the query matched
    candidates: tuple[str, ...] = ()  # entry ids the term could also mean


def resolve_term(term: Term, lexicon: Lexicon) -> Atom:
    norm = normalize(term.text)
    if not norm:
        raise QueryError(f"“{term.text}” contains no letters or digits to look for.")
    found = _lookup(norm, lexicon, exact=term.quoted)
    candidates = _namesakes(norm, lexicon)
    if found is not None:
        entry_id, lang = found
        others = tuple(c for c in candidates if c != entry_id)
        return Atom(f"entity:{entry_id}", term.text, entry_id, (), lang, (entry_id, *others) if others else ())
    if all(word in STOPWORDS for word in norm.split()):
        raise QueryError(f"“{term.text}” is too common a word to follow; add a name or a topic.")
    forms = free_text_forms(term.text, norm, exact=term.quoted)
    # a keyword that is part of lexicon names ("Korea") may have been meant as one of them
    related = lexicon.by_name_word.get(norm, ()) if " " not in norm else ()
    return Atom(f"text:{norm}", term.text, None, forms, None, related)


def _lookup(norm: str, lexicon: Lexicon, exact: bool) -> tuple[str, str | None] | None:
    variants = [norm] if exact else [norm, *_deinflected(norm), *transliterations(norm)]
    for variant in variants:
        ids = lexicon.lookup(variant)
        if ids:
            return _preferred(ids, variant, lexicon)
    return None


def _preferred(ids: tuple[str, ...], norm: str, lexicon: Lexicon) -> tuple[str, str | None]:
    """An unambiguous name beats a weak one ("Kim" is a weak name of several people)."""
    for entry_id in ids:
        entry = lexicon.entries[entry_id]
        for form in entry.forms:
            if form.norm == norm:
                return entry_id, _name_lang(entry.names, norm, form.lang)
    entry = lexicon.entries[ids[0]]
    return ids[0], _name_lang(entry.names, norm, None)


def _name_lang(names: dict[str, str], norm: str, form_lang: str | None) -> str | None:
    for lang, name in names.items():
        if normalize(name) == norm and normalize(names.get("en" if lang == "de" else "de", "")) != norm:
            return lang
    return form_lang


def _namesakes(norm: str, lexicon: Lexicon) -> tuple[str, ...]:
    """People whose name contains the query as a word ("Kim" → Kim Jong-un, Kim Yo-jong, …)."""
    if " " in norm:
        return ()
    return lexicon.by_token.get(norm, ())


def _deinflected(norm: str) -> list[str]:
    last = norm.rsplit(" ", 1)[-1]
    out = []
    for ending in sorted(ENDINGS_DE - {""}, key=len, reverse=True):
        if last.endswith(ending) and len(last) - len(ending) >= 3:
            out.append(norm[: len(norm) - len(ending)])
    return out


def transliterations(norm: str) -> list[str]:
    """Spellings of a proper name in the other language's transliteration (Schoigu ↔ Shoigu)."""
    if len(norm) < MIN_TRANSLITERATED:
        return []
    out = []
    for rules in (_DE_TO_EN, _EN_TO_DE):
        variant = norm
        for source, target in rules:
            variant = variant.replace(source, target)
        variant = variant.lower()
        if variant != norm and variant not in out:
            out.append(variant)
    return out


@lru_cache(maxsize=65536)
def lemmas(word: str) -> tuple[str, ...]:
    found = []
    for lang in ("de", "en"):
        try:
            lemma = normalize(simplemma.lemmatize(word, lang=lang))
        except (ValueError, LookupError):  # an unknown word or missing language data: keep the word
            log.debug("no lemma for %r in %s", word, lang)
            continue
        # inflection changes the end of a word; a different stem ("war" → German "sein") is another word
        if lemma and lemma != word and lemma not in found and _same_stem(word, lemma):
            found.append(lemma)
    return tuple(found)


def _same_stem(word: str, lemma: str) -> bool:
    shared = next((i for i, (a, b) in enumerate(zip(word, lemma, strict=False)) if a != b), min(len(word), len(lemma)))
    return shared >= 3 and shared >= len(lemma) - 2


def free_text_forms(typed: str, norm: str, exact: bool = False) -> tuple[Form, ...]:
    """The phrase itself plus, unless quoted, its lemma and transliteration spellings."""
    spellings = [norm]
    if not exact:
        head, _, last = norm.rpartition(" ")
        spellings += [f"{head} {lemma}".strip() for lemma in lemmas(last)]
        if typed[:1].isupper():
            spellings += transliterations(norm)
    single = " " not in norm
    forms: dict[str, Form] = {}
    for spelling in spellings:
        if spelling in STOPWORDS or len(spelling) < 2:
            continue
        tail = single and not exact and len(spelling) >= MIN_COMPOUND_TAIL
        forms.setdefault(spelling, Form(spelling, typed, None, tail=tail))
    return tuple(forms.values())
