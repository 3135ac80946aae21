"""Subscription query syntax: terms, quoted phrases, AND / OR / NOT / -term and parentheses.

Adjacent plain words form one term ("arms deal", "Kim Jong-Un"); a quoted phrase is always one term.
Terms next to each other without an operator are joined with AND (``"arms deal" -Ukraine``).
German operators UND / ODER / NICHT are accepted too. Operators must be written in capitals so that
"Tom and Jerry" stays a phrase.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

MAX_QUERY_CHARS = 300
MAX_TERMS = 20

_OPERATORS = {"AND": "AND", "UND": "AND", "OR": "OR", "ODER": "OR", "NOT": "NOT", "NICHT": "NOT"}
_QUOTES = str.maketrans({c: '"' for c in "„“”«»‟″"})
_TOKEN_RE = re.compile(r'\s*(?:(?P<quote>"[^"]*"?)|(?P<paren>[()])|(?P<word>[^\s()"]+))')


class QueryError(ValueError):
    """A query that cannot be understood; ``str()`` is a sentence to show the user."""


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


Node = Term | Not | And | Or


def terms_of(node: Node) -> list[Term]:
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Not):
        return terms_of(node.child)
    return [t for child in node.children for t in terms_of(child)]


def evaluate(node: Node, truth: Callable[[Term], bool]) -> bool:
    if isinstance(node, Term):
        return truth(node)
    if isinstance(node, Not):
        return not evaluate(node.child, truth)
    if isinstance(node, And):
        return all(evaluate(c, truth) for c in node.children)
    return any(evaluate(c, truth) for c in node.children)


def positive_terms(node: Node, negated: bool = False) -> list[Term]:
    """Terms whose presence can make the query true (the ones a summary should focus on)."""
    if isinstance(node, Term):
        return [] if negated else [node]
    if isinstance(node, Not):
        return positive_terms(node.child, not negated)
    return [t for child in node.children for t in positive_terms(child, negated)]


def parse_query(query: str) -> Node:
    text = query.translate(_QUOTES).strip()
    if not text:
        raise QueryError("The query is empty: give a name, a topic or keywords, e.g. Putin or arms deal.")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"The query is too long ({len(text)} characters, at most {MAX_QUERY_CHARS}).")
    parser = _Parser(_tokenize(text))
    node = parser.parse()
    if len(terms_of(node)) > MAX_TERMS:
        raise QueryError(f"The query has too many terms (at most {MAX_TERMS}).")
    if evaluate(node, lambda _term: False):
        raise QueryError(
            "The query would match almost every article: it needs at least one term that must appear "
            "(e.g. Putin -Ukraine rather than -Ukraine alone)."
        )
    return node


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    for match in _TOKEN_RE.finditer(text):
        if match.group("quote") is not None:
            quoted = match.group("quote")
            if len(quoted) < 2 or not quoted.endswith('"'):
                raise QueryError('A quotation mark is not closed: write phrases as "arms deal".')
            if not quoted[1:-1].strip():
                raise QueryError('The query contains empty quotation marks "".')
            tokens.append(("PHRASE", " ".join(quoted[1:-1].split())))
        elif match.group("paren") is not None:
            tokens.append(("LP" if match.group("paren") == "(" else "RP", match.group("paren")))
        elif match.group("word") is not None:
            word = match.group("word")
            if word in ("-", "+") and text[match.end() : match.end() + 1] in ("(", '"'):
                tokens.extend([("NOT", "-")] if word == "-" else [])  # -(a OR b), -"arms deal"
                continue
            tokens.extend(_word_tokens(word))
    return tokens


def _word_tokens(word: str) -> list[tuple[str, str]]:
    if word in _OPERATORS:
        return [(_OPERATORS[word], word)]
    if word.startswith("-") or word.startswith("+"):
        rest = word.lstrip("-+")
        kind = [("NOT", "-")] if word.startswith("-") else []
        if not rest:
            return [*kind, ("DANGLING", word)]
        return [*kind, ("WORD", rest)]
    return [("WORD", word)]


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Node:
        node = self.parse_or()
        if self.peek() == "RP":
            raise QueryError("The query has a closing parenthesis ) without an opening one.")
        if self.peek() is not None:
            raise QueryError(f"Unexpected {self.tokens[self.pos][1]!r} in the query.")
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self) -> Node:
        children = [self.parse_unary()]
        while self.peek() in ("AND", "NOT", "LP", "PHRASE", "WORD"):
            if self.peek() == "AND":
                self.take()
            children.append(self.parse_unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_unary(self) -> Node:
        kind = self.peek()
        if kind is None:
            raise QueryError("The query ends with an operator: something must follow AND, OR, NOT or -.")
        if kind == "NOT":
            self.take()
            return Not(self.parse_unary())
        if kind == "LP":
            self.take()
            if self.peek() == "RP":
                raise QueryError("The query contains empty parentheses ().")
            node = self.parse_or()
            if self.peek() != "RP":
                raise QueryError("A parenthesis ( is not closed.")
            self.take()
            return node
        if kind == "PHRASE":
            return Term(self.take()[1], quoted=True)
        if kind == "WORD":
            words = [self.take()[1]]
            while self.peek() == "WORD":
                words.append(self.take()[1])
            return Term(" ".join(words))
        if kind == "RP":
            raise QueryError("The query has a closing parenthesis ) without an opening one.")
        if kind == "DANGLING":
            raise QueryError("A minus sign must be followed directly by a term, e.g. -Ukraine.")
        raise QueryError(f"{self.tokens[self.pos][1]} needs a term on both sides, e.g. Putin AND Kim.")
