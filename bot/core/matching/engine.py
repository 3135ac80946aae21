"""The public face of the matcher: resolve queries, match one query, explain matches."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.core.matching.lexicon import Lexicon
from bot.core.matching.normalize import guess_language, normalize
from bot.core.matching.query import And, Node, Not, Or, Term, evaluate, parse_query, positive_terms, terms_of
from bot.core.matching.scanner import RawHit, Scanner
from bot.core.matching.terms import Atom, resolve_term

COMPILE_CACHE_SIZE = 4096
DEFAULT_NAME_LANG = "de"  # the first corpus is German; used when a query reads the same in both languages


@dataclass(frozen=True, slots=True)
class Hit:
    term: str
    surface: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class MatchResult:
    matched: bool
    hits: tuple[Hit, ...] = ()

    def reason(self) -> str:
        """Short explanation: ``Wladimir Putin (Kremlchef, Putins)``; several terms joined with '; '."""
        if not self.matched:
            return "no match"
        surfaces: dict[str, list[str]] = {}
        for hit in self.hits:
            seen = surfaces.setdefault(hit.term, [])
            if hit.surface not in seen:
                seen.append(hit.surface)
        return "; ".join(f"{term} ({', '.join(forms)})" for term, forms in surfaces.items())


NO_MATCH = MatchResult(False)


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


class BoundQuery:
    """A compiled query attached to one scanner (free-text terms registered there)."""

    def __init__(self, compiled: CompiledQuery, scanner: Scanner) -> None:
        self.compiled = compiled
        self.scanner = scanner
        self.targets: dict[Term, int] = {}
        self._registered: list[str] = []
        for term, atom in compiled.atoms.items():
            if atom.entry_id is not None:
                self.targets[term] = scanner.entry_index[atom.entry_id]
            else:
                self.targets[term] = scanner.add_term(atom.key, atom.forms)
                self._registered.append(atom.key)
        self.positive = frozenset(self.targets[t] for t in positive_terms(compiled.node))

    def release(self) -> None:
        for key in self._registered:
            self.scanner.release_term(key)
        self._registered.clear()

    def result(self, present: dict[int, list[RawHit]], names: Callable[[int], str]) -> MatchResult:
        if not evaluate(self.compiled.node, lambda term: self.targets[term] in present):
            return NO_MATCH
        hits = {
            (h.start, h.end): Hit(names(target), h.surface, h.start, h.end)
            for target in sorted(self.positive)
            for h in present.get(target, ())
        }
        return MatchResult(True, tuple(sorted(hits.values(), key=lambda h: (h.start, h.end))))


class MatchEngine:
    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._compiled: OrderedDict[str, CompiledQuery] = OrderedDict()
        self._bound: OrderedDict[str, BoundQuery] = OrderedDict()
        self._scanner = Scanner(lexicon)

    @classmethod
    def load(cls) -> MatchEngine:
        return cls(Lexicon.load())

    # -- queries ------------------------------------------------------------------------------------------
    def compile(self, query: str) -> CompiledQuery:
        """Parse and resolve ``query`` (cached); raises QueryError with a user-facing sentence."""
        cached = self._compiled.get(query)
        if cached is not None:
            self._compiled.move_to_end(query)
            return cached
        node = parse_query(query)
        atoms = {term: resolve_term(term, self.lexicon) for term in terms_of(node)}
        compiled = CompiledQuery(query.strip(), node, atoms)
        self._compiled[query] = compiled
        if len(self._compiled) > COMPILE_CACHE_SIZE:
            self._compiled.popitem(last=False)
        return compiled

    def resolve(self, query: str, lang: str | None = None) -> Resolution:
        compiled = self.compile(query)
        atoms = list({a.key: a for a in compiled.atoms.values()}.values())
        candidates = tuple(
            self.lexicon.entries[c].name(lang or DEFAULT_NAME_LANG) for a in atoms for c in a.candidates
        )
        if isinstance(compiled.node, Term):
            description = self._describe_atom(compiled.atoms[compiled.node], lang)
        else:
            description = f"{compiled.text} → {self._render(compiled.node, compiled.atoms, lang)}"
        if candidates:
            description += f" — could also mean: {', '.join(candidates[1:] or candidates)}"
        return Resolution(compiled.text, compiled.key, description, candidates)

    def _describe_atom(self, atom: Atom, lang: str | None) -> str:
        if atom.entry_id is None:
            extra = [f.norm for f in atom.forms if f.norm != normalize(atom.label)]
            also = f" (also {', '.join(extra)})" if extra else ""
            return f"{atom.label} → keyword “{atom.label}”{also}"
        entry = self.lexicon.entries[atom.entry_id]
        name = entry.name(lang or atom.matched_lang or DEFAULT_NAME_LANG)
        names = entry.surface_names()
        query_norm = normalize(atom.label)
        example = next((n for n in names if query_norm not in normalize(n)), None)
        incl = f" incl. {example}" if example else ""
        return f"{atom.label} → {name}, {len(names)} names{incl}"

    def _render(self, node: Node, atoms: dict[Term, Atom], lang: str | None) -> str:
        if isinstance(node, Term):
            atom = atoms[node]
            if atom.entry_id is None:
                return f"“{atom.label}”"
            return self.lexicon.entries[atom.entry_id].name(lang or atom.matched_lang or DEFAULT_NAME_LANG)
        if isinstance(node, Not):
            return f"NOT {self._render(node.child, atoms, lang)}"
        joiner = " AND " if isinstance(node, And) else " OR "
        parts = [self._render(c, atoms, lang) for c in node.children]
        text = joiner.join(parts)
        return f"({text})" if isinstance(node, Or) and len(parts) > 1 and joiner == " OR " else text

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
        bound = self._bind(query)
        present = self._scanner.present(self._scanner.scan(text, lang))
        return bound.result(present, self.namer(self._scanner, bound, text, lang))

    def focus_predicate(self, query: str) -> Callable[[str], bool]:
        """Does a sentence (of an article that matched) mention what the query is about?"""
        bound = self._bind(query)
        scanner = self._scanner

        def mentions(sentence: str) -> bool:
            present = scanner.present(scanner.scan(sentence), relaxed=True)
            return not bound.positive.isdisjoint(present)

        return mentions

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

    def namer(self, scanner: Scanner, bound: BoundQuery | None, text: str, lang: str | None):
        """Names for hit targets: the entity's name in the article's language, or the term as typed."""
        name_lang = lang or None
        labels = {} if bound is None else {bound.targets[t]: a.label for t, a in bound.compiled.atoms.items()}

        def name(target: int) -> str:
            nonlocal name_lang
            if not scanner.is_entry(target):
                return labels.get(target, "?")
            if name_lang is None:
                name_lang = guess_language(normalize(text[:4000]))
            return self.lexicon.entries[scanner.entry_ids[target]].name(name_lang)

        return name


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

