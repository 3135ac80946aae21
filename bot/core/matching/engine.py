"""The public face of the matcher: resolve queries, match one query, explain matches."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bot.core.i18n import translator
from bot.core.lang import detect_language
from bot.core.lemma_cache import use_lemma_cache
from bot.core.matching.bound import BoundQuery
from bot.core.matching.compounds import Decompounder
from bot.core.matching.describe import DEFAULT_NAME_LANG, describe
from bot.core.matching.lexicon import Lexicon
from bot.core.matching.normalize import normalize
from bot.core.matching.presence import Found, Scan, outermost
from bot.core.matching.query import And, Node, Not, Term, parse_query, positive_terms, terms_of
from bot.core.matching.results import NO_MATCH, VIA_ALIAS, Hit, MatchResult
from bot.core.matching.scanner import RawHit, Scanner
from bot.core.matching.terms import Atom, resolve_term
from bot.core.matching.vocabulary import Vocabulary

COMPILE_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Resolution:
    query: str
    key: str
    description: str
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """A parsed query with every term resolved; independent of any scanner."""

    text: str
    node: Node
    atoms: dict[Term, Atom]

    @property
    def key(self) -> str:
        return _canonical(self.node, self.atoms)

    def positive_atoms(self) -> list[Atom]:
        return list({self.atoms[t].key: self.atoms[t] for t in positive_terms(self.node)}.values())


class ArticleView:
    """What one article is about. Results are shared by every query with the same terms, and their
    explanation hits are built only when someone reads them."""

    def __init__(self, lexicon: Lexicon, scanner: Scanner, text: str, lang: str | None, relaxed: bool = False):
        self.lexicon = lexicon
        self.scanner = scanner
        self.text = text
        scan = scanner.scan(text, lang)
        # hits inside a longer hit of the same target stay in: they never decide presence, and hits() drops
        # them for the few targets an explanation shows
        self.present = scanner.present(scan, relaxed, keep_nested=True)
        # the results point at the explainer, not at the view that caches them: no reference cycle, so an
        # article's view and results are freed at once instead of being left to the garbage collector
        self._explainer = _Explainer(scanner, text, scan, self.present)
        self._single: dict[int, MatchResult] = {}
        self._combined: dict[tuple[int, ...], MatchResult] = {}

    @property
    def lang(self) -> str | None:
        return self._explainer.lang

    def single(self, target: int) -> MatchResult:
        """The result of a one-term query, shared by every subscription to that term."""
        cached = self._single.get(target)
        if cached is None:
            if target in self.present:
                cached = MatchResult(True, source=partial(self._explainer.hits, target))
            else:
                cached = NO_MATCH
            self._single[target] = cached
        return cached

    def combined(self, targets: tuple[int, ...]) -> MatchResult:
        """A positive result explained by the hits of ``targets``, shared by queries with the same terms."""
        cached = self._combined.get(targets)
        if cached is None:
            cached = MatchResult(True, source=partial(self._explainer.merged, targets))
            self._combined[targets] = cached
        return cached

    def hits(self, target: int) -> tuple[Hit, ...]:
        return self._explainer.hits(target)


class _Explainer:
    """The explanation hits of one article's targets, built on first use and cached."""

    __slots__ = ("_hits", "lang", "present", "scan", "scanner", "text")

    def __init__(self, scanner: Scanner, text: str, scan: Scan, present: dict[int, Found]) -> None:
        self.scanner = scanner
        self.text = text
        self.scan = scan  # builds the hits of the targets an explanation reads from the scan's marks
        self.lang = scan.lang
        self.present = present
        self._hits: dict[int, tuple[Hit, ...]] = {}

    def merged(self, targets: tuple[int, ...]) -> tuple[Hit, ...]:
        found = [self.hits(t) for t in targets if t in self.present]
        if len(found) == 1:
            return found[0]
        merged = {(h.start, h.end): h for hits in found for h in hits}
        return tuple(sorted(merged.values(), key=lambda h: (h.start, h.end)))

    def hits(self, target: int) -> tuple[Hit, ...]:
        cached = self._hits.get(target)
        if cached is None:
            name = self._name(target)
            found = self.scan.built(target, self.present.get(target, []))
            if len(found) > 1:
                found = outermost(found)
            entry = self.scanner.is_entry(target)
            cached = tuple(
                [Hit(name, h.surface, h.start, h.end, VIA_ALIAS if entry and not h.via else h.via) for h in found]
            )
            self._hits[target] = cached
        return cached

    def _name(self, target: int) -> str:
        """The entity's name in the article's language, or the free-text term as typed."""
        if not self.scanner.is_entry(target):
            return self.scanner.term_label(target)
        if self.lang is None:
            self.lang = detect_language(self.text)
        return self.scanner.entry_name(target, self.lang)


@dataclass(frozen=True, slots=True)
class FocusTest:
    """A sentence test for summaries: any mention, and (``by_name``) a mention by the entity's own name."""

    mentions: Callable[[str], bool]
    by_name: Callable[[str], bool]

    def __call__(self, sentence: str) -> bool:
        return self.mentions(sentence)


_NAME_ENDINGS = ("'s", "s", "es", "en", "n")


def _stems(surface: str) -> set[str]:
    """Words of a surface with a possessive or case ending dropped ("Putins" → "putin")."""
    found = set()
    for word in normalize(surface).split():
        found.add(word)
        found.update(word[: -len(e)] for e in _NAME_ENDINGS if word.endswith(e) and len(word) > len(e) + 2)
    return found


class MatchEngine:
    def __init__(self, lexicon: Lexicon, vocabulary: Vocabulary | None = None) -> None:
        self.lexicon = lexicon
        self.vocabulary = vocabulary or Vocabulary()
        self.decompounder = Decompounder()  # one word cache for every scanner of this engine
        self._compiled: OrderedDict[str, CompiledQuery] = OrderedDict()
        self._bound: OrderedDict[str, BoundQuery] = OrderedDict()
        self._scanner = self.new_scanner()
        # Callers match from worker threads (archive scans, summaries) while the loop compiles queries; the
        # caches and the shared scanner (rebuilt lazily when terms are registered) are not thread-safe.
        self._lock = threading.RLock()

    @classmethod
    def load(cls, cache_dir: Path | None = None) -> MatchEngine:
        """The shipped lexicon and vocabulary; raises LexiconError / VocabularyError naming the bad file.
        ``cache_dir``: where derived data (simplemma's lemma dictionaries, the built lexicon and vocabulary)
        is kept between processes."""
        if cache_dir is not None:
            use_lemma_cache(cache_dir)
        return cls(Lexicon.load(cache_dir=cache_dir), Vocabulary.load(cache_dir=cache_dir))

    def new_scanner(self) -> Scanner:
        return Scanner(self.lexicon, self.vocabulary, self.decompounder)

    # -- queries ------------------------------------------------------------------------------------------
    def compile(self, query: str) -> CompiledQuery:
        """Parse and resolve ``query`` (cached); raises QueryError with a user-facing sentence."""
        with self._lock:
            return self._compile(query)

    def _compile(self, query: str) -> CompiledQuery:
        cached = self._compiled.get(query)
        if cached is not None:
            self._compiled.move_to_end(query)
            return cached
        node = parse_query(query)
        atoms = {term: resolve_term(term, self.lexicon, self.vocabulary) for term in terms_of(node)}
        compiled = CompiledQuery(query.strip(), node, atoms)
        self._compiled[query] = compiled
        if len(self._compiled) > COMPILE_CACHE_SIZE:
            self._compiled.popitem(last=False)
        return compiled

    def resolve(self, query: str, lang: str | None = None) -> Resolution:
        with self._lock:
            return self._resolve(query, lang)

    def _resolve(self, query: str, lang: str | None) -> Resolution:
        compiled = self.compile(query)
        atoms = list({a.key: a for a in compiled.atoms.values()}.values())
        candidates = tuple(self.lexicon.entries[c].name(lang or DEFAULT_NAME_LANG) for a in atoms for c in a.candidates)
        t = translator(lang)
        description = describe(self.lexicon, compiled.text, compiled.node, compiled.atoms, candidates, t, lang)
        return Resolution(compiled.text, compiled.key, description, candidates)

    # -- matching -----------------------------------------------------------------------------------------
    def _bind(self, query: str) -> BoundQuery:
        compiled = self.compile(query)
        bound = self._bound.get(compiled.key)
        if bound is None:
            bound = BoundQuery(compiled, self._scanner)
            self._bound[compiled.key] = bound
            if len(self._bound) > COMPILE_CACHE_SIZE:
                self._bound.popitem(last=False)[1].release()
        else:
            self._bound.move_to_end(compiled.key)
        return bound

    def match(self, query: str, text: str, lang: str | None = None) -> MatchResult:
        with self._lock:
            bound = self._bind(query)
            return bound.result(ArticleView(self.lexicon, self._scanner, text, lang))

    def focus_predicate(self, query: str) -> FocusTest:
        """Does a sentence (of an article that matched) mention what the query is about? Its ``by_name``
        tells whether it does so by a name ("Putin", "Wladimir Putins") rather than an office title or
        epithet alone ("Russia's president", "Kremlchef"): summaries prefer those sentences."""
        with self._lock:
            bound = self._bind(query)
        scanner, lock = self._scanner, self._lock
        name_words = {t: self._name_words(scanner.entry_ids[t]) for t in bound.positive if scanner.is_entry(t)}

        def found(sentence: str) -> dict[int, list[RawHit]]:
            with lock:
                present = scanner.present(scanner.scan(sentence), relaxed=True)
            return {t: present[t] for t in bound.positive if t in present}

        def mentions(sentence: str) -> bool:
            return bool(found(sentence))

        def by_name(sentence: str) -> bool:
            for target, hits in found(sentence).items():
                words = name_words.get(target)
                if words is None or any(not words.isdisjoint(_stems(h.surface)) for h in hits):
                    return True
            return False

        return FocusTest(mentions, by_name)

    def _name_words(self, entry_id: str) -> frozenset[str]:
        names = self.lexicon.entries[entry_id].names.values()
        return frozenset(word for name in names for word in normalize(name).split())

    def focus_terms(self, query: str) -> list[str]:
        names: dict[str, str] = {}
        for atom in self.compile(query).positive_atoms():
            if atom.entry_id is not None:
                found: Iterable[str] = self.lexicon.entries[atom.entry_id].surface_names()
            else:
                found = [atom.label, *(f.norm for f in atom.forms)]
            for name in found:
                names.setdefault(normalize(name), name)
        return list(names.values())


def _canonical(node: Node, atoms: dict[Term, Atom]) -> str:
    """Order-independent form of a query, so "Kim AND Putin" and "Putin AND Kim" are one subscription."""
    if isinstance(node, Term):
        return atoms[node].key
    if isinstance(node, Not):
        return f"NOT {_canonical(node.child, atoms)}"
    parts = sorted({_canonical(c, atoms) for c in node.children})
    if len(parts) == 1:
        return parts[0]
    return "(" + (" AND " if isinstance(node, And) else " OR ").join(parts) + ")"
