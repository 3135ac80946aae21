"""The shipped entity/topic lexicon: TOML data in ``config/lexicon``, read once at start.

Alias notation (data, not code, decides how a name may appear):
- ``Waffen|deal``  a German compound whose parts may also be written apart or hyphenated ("Waffen-Deal");
- ``*waffendeal``  the form may close a longer compound ("Milliardenwaffendeal"; German compounds are
  right-headed, so the last part says what the word is about);
- ``DPRK``         an all-capital acronym only matches in capitals ("US" but not "us");
- ``Russian President=``  no plural or case endings (a title names one person, "Russian presidents" several).
Short capitalised names ("Xi", "Kim") only match capitalised in the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import config
from bot.core.matching.normalize import normalize

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

KINDS = frozenset({"person", "country", "city", "organisation", "topic"})
LANGS = ("de", "en")


class LexiconError(ValueError):
    """The shipped lexicon data is inconsistent (a packaging bug, reported clearly at start)."""


@dataclass(frozen=True, slots=True)
class Form:
    """One way an entity is written, already normalised."""

    norm: str
    alias: str  # as written in the lexicon, for explanations and the summariser
    lang: str | None
    tail: bool = False  # may close a compound word
    acronym: bool = False  # must appear in capitals
    capital: bool = False  # short name: must start with a capital letter
    exact: bool = False  # no plural or case endings, only a possessive ("Russian President's")
    via: str = ""  # how the form relates to the query: "" as typed or a lexicon name, else a Via value
    compound: bool = False  # may be a part of a German compound found by decompounding ("Munitions|fabrik")
    sense: frozenset[str] = frozenset()  # English content words of its vocabulary sense (compound checks)


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    kind: str
    names: dict[str, str]
    forms: tuple[Form, ...]
    weak: tuple[Form, ...] = ()
    context: tuple[str, ...] = ()
    context_forms: tuple[Form, ...] = ()
    negative: tuple[Form, ...] = ()

    def name(self, lang: str | None = None) -> str:
        return self.names.get(lang or "en") or self.names.get("en") or next(iter(self.names.values()))

    def surface_names(self) -> list[str]:
        """Distinct written names (canonical names first), for descriptions and the summariser."""
        seen: dict[str, str] = {}
        for text in [*self.names.values(), *(f.alias for f in self.forms), *(f.alias for f in self.weak)]:
            seen.setdefault(normalize(text), text)
        return list(seen.values())


@dataclass(frozen=True, slots=True)
class Lexicon:
    entries: dict[str, Entry]
    by_form: dict[str, tuple[str, ...]] = field(default_factory=dict)  # normalised name → entry ids
    by_token: dict[str, tuple[str, ...]] = field(default_factory=dict)  # word of a person's name → ids
    by_name_word: dict[str, tuple[str, ...]] = field(default_factory=dict)  # word of any canonical name → ids
    opaque: frozenset[str] = frozenset()  # German compounds whose meaning is not their parts' (Brückentag)

    @classmethod
    def load(cls, folder: Traversable | None = None, cache_dir: Path | None = None) -> Lexicon:
        """Every ``*.toml`` of ``folder`` (default: the shipped ``config/lexicon``). ``cache_dir``: keep the
        built lexicon there and read it back while the sources are unchanged."""
        folder = folder or Path(config.__file__).parent / "lexicon"
        files = sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
        if not files:
            raise LexiconError(f"no lexicon files found in {folder}")
        if cache_dir is None:
            return cls.from_files(files)
        from bot.core.matching.datacache import cached_lexicon  # it imports this module

        return cached_lexicon(cache_dir, files, lambda: cls.from_files(files))

    @classmethod
    def from_files(cls, files: Sequence[Traversable]) -> Lexicon:
        import tomllib  # only when the lexicon is built from its sources, not read from the cache

        entries: dict[str, Entry] = {}
        opaque: set[str] = set()
        for file in files:
            try:
                data = tomllib.loads(file.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise LexiconError(f"{file.name}: {exc}") from None
            opaque.update(normalize(word) for word in data.get("opaque_compounds", []))
            for entry in _entries_from(file.name, data):
                if entry.id in entries:
                    raise LexiconError(f"{file.name}: duplicate id {entry.id!r}")
                entries[entry.id] = entry
        for entry in entries.values():
            unknown = [c for c in entry.context if c not in entries]
            if unknown:
                raise LexiconError(f"{entry.id}: unknown context ids {unknown}")
        return cls(entries, *_indexes(entries.values()), frozenset(opaque))

    def lookup(self, norm: str) -> tuple[str, ...]:
        return self.by_form.get(norm, ())


Index = dict[str, tuple[str, ...]]


def _indexes(entries: Iterable[Entry]) -> tuple[Index, Index, Index]:
    by_form: dict[str, list[str]] = {}
    by_token: dict[str, list[str]] = {}
    by_name_word: dict[str, list[str]] = {}
    for entry in entries:
        names = [normalize(n) for n in entry.names.values()]
        for norm in [*names, *(f.norm for f in entry.forms), *(f.norm for f in entry.weak)]:
            bucket = by_form.setdefault(norm, [])
            if entry.id not in bucket:
                bucket.append(entry.id)
        for norm in names:
            for token in norm.split():
                words = by_name_word.setdefault(token, [])
                if entry.id not in words:
                    words.append(entry.id)
        if entry.kind != "person":
            continue
        for norm in [*names, *(f.norm for f in entry.weak)]:  # people who share a name ("Kim")
            for token in norm.split():
                tokens = by_token.setdefault(token, [])
                if entry.id not in tokens:
                    tokens.append(entry.id)
    return (
        {k: tuple(v) for k, v in by_form.items()},
        {k: tuple(v) for k, v in by_token.items()},
        {k: tuple(v) for k, v in by_name_word.items()},
    )


def _entries_from(filename: str, data: dict[str, Any]) -> Iterator[Entry]:
    for table, default_kind in (("entity", None), ("topic", "topic")):
        for raw in data.get(table, []):
            try:
                yield _entry(raw, default_kind)
            except (KeyError, TypeError, ValueError) as exc:
                raise LexiconError(f"{filename}: entry {raw.get('id', '?')!r}: {exc}") from None


def _entry(raw: dict[str, Any], default_kind: str | None) -> Entry:
    kind = raw.get("kind", default_kind)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}")
    names = {lang: raw[lang] for lang in LANGS if lang in raw}
    if not names:
        raise ValueError("needs a name in at least one language (keys 'en', 'de')")
    forms: list[Form] = []
    for lang in LANGS:
        for alias in [names.get(lang, ""), *raw.get(f"aliases_{lang}", [])]:
            if alias:
                forms.extend(expand_alias(alias, lang))
    for alias in raw.get("aliases", []):
        forms.extend(expand_alias(alias, None))
    return Entry(
        id=raw["id"],
        kind=kind,
        names=names,
        forms=_dedupe(forms),
        weak=_dedupe(f for a in raw.get("weak", []) for f in expand_alias(a, None)),
        context=tuple(raw.get("context", [])),
        context_forms=_dedupe(f for a in raw.get("context_words", []) for f in expand_alias(a, None)),
        negative=_dedupe(f for a in raw.get("negative", []) for f in expand_alias(a, None)),
    )


def expand_alias(alias: str, lang: str | None) -> list[Form]:
    """Turn one lexicon alias (with its notation) into the normalised forms it stands for."""
    text = alias.strip()
    tail = text.startswith("*")
    exact = text.endswith("=")
    text = text.lstrip("*").rstrip("=")
    letters = [c for c in text if c.isalpha()]
    acronym = bool(letters) and len(letters) <= 5 and all(c.isupper() for c in letters) and " " not in text
    capital = not acronym and len(letters) <= 3 and text[:1].isupper()
    variants = {text.replace("|", "")}
    if "|" in text:
        variants.add(text.replace("|", " "))
    forms = []
    for variant in sorted(variants):
        norm = normalize(variant)
        if not norm:
            raise ValueError(f"alias {alias!r} has no letters")
        # a compound written apart is two words; "tail" only makes sense inside one word
        forms.append(Form(norm, text.replace("|", ""), lang, tail and " " not in norm, acronym, capital, exact))
    return forms


def _dedupe(forms: Iterable[Form]) -> tuple[Form, ...]:
    """One form per spelling; the most permissive flags win ("Nato" lifts the capitals rule of "NATO")."""
    seen: dict[str, Form] = {}
    for form in forms:
        old = seen.get(form.norm)
        if old is None:
            seen[form.norm] = form
            continue
        seen[form.norm] = Form(
            old.norm,
            old.alias,
            old.lang if old.lang == form.lang else None,
            old.tail or form.tail,
            old.acronym and form.acronym,
            old.capital and form.capital,
            old.exact and form.exact,
        )
    return tuple(seen.values())
