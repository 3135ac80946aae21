"""What a subscription was understood as, in the chat's language: the "Putin → Wladimir Putin, 21 names"
line of ``subscribe`` and ``newsalert match``. The few words of it are catalog texts (bot/core/i18n.py)."""

from __future__ import annotations

from bot.core.i18n import N_, Translator
from bot.core.matching.lexicon import Lexicon
from bot.core.matching.normalize import normalize
from bot.core.matching.query import And, Node, Not, Term
from bot.core.matching.terms import Atom

DEFAULT_NAME_LANG = "de"  # the first corpus is German; used when a query reads the same in both languages
MAX_LISTED = 8  # translations shown before "…"

# How a hit relates to its term, named in explanations ("why it matched", ``match --json``).
PATH_LABELS = {
    "translation": N_("translation"),
    "compound part": N_("compound part"),
    "lexicon alias": N_("lexicon alias"),
}


def path_label(t: Translator, via: str) -> str:
    label = PATH_LABELS.get(via)
    return t(label) if label else via


def describe(
    lexicon: Lexicon,
    text: str,
    node: Node,
    atoms: dict[Term, Atom],
    candidates: tuple[str, ...],
    t: Translator,
    lang: str | None,
) -> str:
    """One line: the term(s) as understood, and what else an ambiguous name could mean. Names are given in
    ``lang``, or else in the language the query was typed in."""
    if isinstance(node, Term):
        description = describe_atom(lexicon, atoms[node], t, lang)
    else:
        description = f"{text} → {_render(lexicon, node, atoms, lang)}"
    first_ambiguous = next((a for a in atoms.values() if a.candidates), None)
    if candidates and first_ambiguous is not None:
        # the entity followed is listed first among its candidates; a keyword follows none of them
        alternatives = candidates[1:] if first_ambiguous.entry_id is not None else candidates
        if alternatives:
            description += " — " + t("could also mean: {names}", names=", ".join(alternatives))
    return description


def describe_atom(lexicon: Lexicon, atom: Atom, t: Translator, lang: str | None) -> str:
    if atom.entry_id is None:
        return _describe_keyword(atom, t)
    entry = lexicon.entries[atom.entry_id]
    name = entry.name(lang or atom.matched_lang or DEFAULT_NAME_LANG)
    names = entry.surface_names()
    shown = {normalize(atom.label), normalize(name)}
    # an example the user would not have guessed: not containing the query, in Latin script
    example = next((n for n in names if not any(s in normalize(n) for s in shown) and normalize(n).isascii()), None)
    if example:
        return t.plural(
            "{term} → {name}, {n} name incl. {example}",
            "{term} → {name}, {n} names incl. {example}",
            len(names),
            term=atom.label,
            name=name,
            example=example,
        )
    return t.plural("{term} → {name}, {n} name", "{term} → {name}, {n} names", len(names), term=atom.label, name=name)


def _describe_keyword(atom: Atom, t: Translator) -> str:
    typed = normalize(atom.label)
    line = t("{term} → keyword “{keyword}”", term=atom.label, keyword=atom.label)
    spellings = [f.norm for f in atom.forms if not f.via and f.norm != typed]
    if spellings:
        line += " (" + t("also {forms}", forms=", ".join(spellings)) + ")"
    translated = [f.alias for f in atom.forms if f.via == "translation"]
    if translated or atom.weak:
        words = list(dict.fromkeys(translated))[:MAX_LISTED]
        line += "; " + t("translated: {words}", words=", ".join(words) or "…")
        if atom.weak:
            contexts = ", ".join(list(dict.fromkeys(f.alias for f in atom.context))[:4])
            ambiguous = ", ".join(dict.fromkeys(f.alias for f in atom.weak))
            line += "; " + t("{words} only next to {context} …", words=ambiguous, context=contexts)
    return line


def _render(lexicon: Lexicon, node: Node, atoms: dict[Term, Atom], lang: str | None, nested: bool = False) -> str:
    if isinstance(node, Term):
        atom = atoms[node]
        if atom.entry_id is None:
            return f"“{atom.label}”"
        return lexicon.entries[atom.entry_id].name(lang or atom.matched_lang or DEFAULT_NAME_LANG)
    if isinstance(node, Not):
        return f"NOT {_render(lexicon, node.child, atoms, lang, nested=True)}"
    joiner = " AND " if isinstance(node, And) else " OR "
    text = joiner.join(_render(lexicon, c, atoms, lang, nested=True) for c in node.children)
    return f"({text})" if nested else text
