"""Turning one query term into something the scanner can look for: a lexicon entry or free-text forms."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from bot.core.lemma_cache import lemmatize
from bot.core.matching.lexicon import Form, Lexicon
from bot.core.matching.normalize import STOPWORDS, normalize
from bot.core.matching.query import QueryError, Term
from bot.core.matching.scanner import ENDINGS_DE
from bot.core.matching.vocabulary import Sense, Vocabulary

log = logging.getLogger(__name__)

MIN_COMPOUND_PART = 4  # a free-text word outside the vocabulary this long may be a German compound's part
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


VIA_TRANSLATION = "translation"
VIA_CONTEXT = "context"


@dataclass(frozen=True, slots=True)
class Atom:
    """A resolved query term."""

    key: str  # "entity:<id>" or "text:<normalised phrase>"
    label: str  # what the user typed, or the entity's name
    entry_id: str | None = None
    forms: tuple[Form, ...] = ()  # free text only
    matched_lang: str | None = None  # language of the lexicon name the query matched
    candidates: tuple[str, ...] = ()  # entry ids the term could also mean
    weak: tuple[Form, ...] = ()  # free text: translations that count only with one of ``context`` nearby
    context: tuple[Form, ...] = ()
    senses: tuple[Sense, ...] = ()  # the vocabulary senses the term was translated by


def resolve_term(term: Term, lexicon: Lexicon, vocabulary: Vocabulary | None = None) -> Atom:
    norm = normalize(term.text)
    if not norm:
        raise QueryError(f"“{term.text}” contains no letters or digits to look for.")
    found = _lookup(norm, lexicon, exact=term.quoted)
    candidates = _namesakes(norm, lexicon)
    senses = () if term.quoted or vocabulary is None else _senses(norm, vocabulary)
    if found is not None and senses and _topic_alias(lexicon, found[0], norm):
        # "Satellit" is one of the words of the topic "space launch", but whoever types it follows satellites
        found, candidates = None, (found[0],)
    if found is not None:
        entry_id, lang, same_name = found
        # everything the name can mean: namesakes ("Kim") and entries sharing the word ("Wagner", "Kirby")
        others = tuple(c for c in dict.fromkeys((*same_name, *candidates)) if c != entry_id)
        return Atom(f"entity:{entry_id}", term.text, entry_id, (), lang, (entry_id, *others) if others else ())
    if all(word in STOPWORDS for word in norm.split()):
        raise QueryError(f"“{term.text}” is too common a word to follow; add a name or a topic.")
    forms = free_text_forms(term.text, norm, exact=term.quoted, senses=senses)
    # a keyword that is part of lexicon names ("Korea") may have been meant as one of them
    related = lexicon.by_name_word.get(norm, ()) if " " not in norm else ()
    related = tuple(dict.fromkeys((*related, *candidates))) if senses else related
    if not senses:
        return Atom(f"text:{norm}", term.text, None, forms, None, related)
    strong, weak, context = translations(senses, {f.norm for f in forms})
    return Atom(f"text:{norm}", term.text, None, (*forms, *strong), None, related, weak, context, senses)


def _topic_alias(lexicon: Lexicon, entry_id: str, norm: str) -> bool:
    """Whether ``norm`` is only one of the words of a topic (not a person, place or the topic's name)."""
    entry = lexicon.entries[entry_id]
    return entry.kind == "topic" and all(normalize(name) != norm for name in entry.names.values())


def _senses(norm: str, vocabulary: Vocabulary) -> tuple[Sense, ...]:
    """The vocabulary senses of a term, looked up as typed, then by its dictionary forms (Granaten → Granate,
    prisoners → prisoner)."""
    head, _, last = norm.rpartition(" ")
    variants = [norm, *_deinflected(norm), *(f"{head} {lemma}".strip() for lemma in lemmas(last))]
    for variant in variants:
        found = vocabulary.lookup(variant)
        if found:
            return found
    return ()


def translations(
    senses: tuple[Sense, ...], typed: set[str]
) -> tuple[tuple[Form, ...], tuple[Form, ...], tuple[Form, ...]]:
    """(strong, weak, context) forms of the senses' words in both languages, other than those typed."""
    strong: dict[str, Form] = {}
    weak: dict[str, Form] = {}
    context: dict[str, Form] = {}
    for sense in senses:
        tokens = sense.english_tokens()
        for word in sense.words:
            for spelling in _spellings(word.norm, word.text, word.lang):
                if spelling in typed or spelling in STOPWORDS:
                    continue
                compound = word.lang == "de" and " " not in spelling and not word.weak
                form = Form(spelling, word.text, word.lang, via=VIA_TRANSLATION, compound=compound, sense=tokens)
                (weak if word.weak else strong).setdefault(spelling, form)
        for text in sense.context:
            norm = normalize(text)
            if norm and norm not in STOPWORDS:
                context.setdefault(norm, Form(norm, text, None, via=VIA_CONTEXT))
    weak = {k: v for k, v in weak.items() if k not in strong}  # a word strong in another sense is strong
    return tuple(strong.values()), tuple(weak.values()), tuple(context.values())  # as Atom declares them


def _spellings(norm: str, text: str, lang: str) -> list[str]:
    """English two-word terms are also written as one word ("air strike", "airstrike")."""
    parts = norm.split()
    if lang == "en" and len(parts) == 2 and "-" not in text:
        return [norm, "".join(parts)]
    return [norm]


def _lookup(norm: str, lexicon: Lexicon, exact: bool) -> tuple[str, str | None, tuple[str, ...]] | None:
    """(entry id, language of the name, every entry with that name) of the first spelling that is known."""
    variants = [norm] if exact else [norm, *_deinflected(norm), *transliterations(norm)]
    for variant in variants:
        ids = lexicon.lookup(variant)
        if ids:
            return (*_preferred(ids, variant, lexicon), ids)
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
            lemma = normalize(lemmatize(word, lang))
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


_NO_SENSE: frozenset[str] = frozenset()


def free_text_forms(
    typed: str, norm: str, exact: bool = False, senses: tuple[Sense, ...] = ()
) -> tuple[Form, ...]:
    """The phrase itself plus, unless quoted, its lemma and transliteration spellings. A single word may be a
    part of German compounds, unless the vocabulary marks it ambiguous (Rat~: not *Ratgeber*)."""
    spellings = [norm]
    if not exact:
        head, _, last = norm.rpartition(" ")
        spellings += [f"{head} {lemma}".strip() for lemma in lemmas(last)]
        if typed[:1].isupper():
            spellings += transliterations(norm)
    tokens = frozenset().union(*(s.english_tokens() for s in senses))
    # only German words form compounds: "Gas" is plain even though English "gas" is marked ambiguous
    ambiguous = any(w.weak for s in senses for w in s.words if w.lang == "de" and w.norm in spellings)
    shortest = MIN_COMPOUND_PART - 1 if senses else MIN_COMPOUND_PART  # "Gas" is known to be a word
    forms: dict[str, Form] = {}
    for spelling in spellings:
        if spelling in STOPWORDS or len(spelling) < 2:
            continue
        compound = " " not in spelling and not exact and not ambiguous and len(spelling) >= shortest
        # one shared empty set: a new empty frozenset per term cost 216 bytes
        forms.setdefault(spelling, Form(spelling, typed, None, compound=compound, sense=tokens or _NO_SENSE))
    return tuple(forms.values())
