"""``newsalert match`` (one decision with its reason) and ``newsalert match-eval`` (scores a JSONL set)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the engine is imported when a command runs: `newsalert --help` must not load it
    from bot.core.matching import MatchEngine, MatchResult
    from config.settings import Settings

EXIT_OK, EXIT_NO, EXIT_USAGE = 0, 1, 2
MAX_TEXT_BYTES = 20 * 1024 * 1024


def register(sub: argparse._SubParsersAction) -> None:
    match = sub.add_parser("match", help="decide whether a query matches a text, and why")
    match.add_argument("--query", "-q", required=True, help='subscription query, e.g. Putin or "arms deal" -Ukraine')
    source = match.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", "-t", help="the article text")
    source.add_argument("--file", "-f", type=Path, help="a UTF-8 file holding the article text")
    match.add_argument("--lang", choices=("de", "en"), help="article language (guessed when omitted)")
    match.add_argument("--json", action="store_true", help="print the decision as JSON")
    match.set_defaults(func=run_match)

    evaluate = sub.add_parser("match-eval", help="score the matcher on a JSONL set {id,query,lang,text,match}")
    evaluate.add_argument("path", type=Path, metavar="FILE.jsonl")
    evaluate.set_defaults(func=run_match_eval)


def _engine() -> MatchEngine | None:
    from bot.core.matching import LexiconError, MatchEngine, VocabularyError
    from config.locations import default_cache_dir

    try:  # this command reads no configuration (see SETTINGS_FREE): the default cache folder
        return MatchEngine.load(default_cache_dir())
    except (LexiconError, VocabularyError) as exc:
        print(f"newsalert: the shipped lexicon or vocabulary is broken: {exc}", file=sys.stderr)
        return None


def _read_text(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_TEXT_BYTES:
            print(f"newsalert: {path} is larger than {MAX_TEXT_BYTES // 1024 // 1024} MB", file=sys.stderr)
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"newsalert: cannot read {path}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return None


def run_match(args: argparse.Namespace, settings: Settings | None) -> int:
    import json

    from bot.core.matching import QueryError

    text = args.text if args.text is not None else _read_text(args.file)
    if text is None:
        return EXIT_USAGE
    engine = _engine()
    if engine is None:
        return EXIT_USAGE
    try:
        resolution = engine.resolve(args.query)
        result = engine.match(args.query, text, args.lang)
    except QueryError as exc:
        print(f"newsalert: bad query: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(_as_json(args.query, resolution.description, result), ensure_ascii=False, indent=2))
    else:
        print(f"query: {resolution.description}")
        print(f"match: {result.reason()}" if result.matched else "no match")
        for hit in result.hits:
            print(f"  {hit.term}: {hit.surface!r} at {hit.start}-{hit.end} ({hit.path})")
    return EXIT_OK if result.matched else EXIT_NO


def _as_json(query: str, resolved: str, result: MatchResult) -> dict[str, Any]:
    return {
        "query": query,
        "resolved": resolved,
        "match": result.matched,
        "reason": result.reason() if result.matched else None,
        "hits": [
            {"term": h.term, "surface": h.surface, "start": h.start, "end": h.end, "via": h.path} for h in result.hits
        ],
    }


class _Score:
    """Counts of one evaluation (a plain class: the dataclass machinery costs `newsalert --help` an import)."""

    def __init__(self) -> None:
        self.tp = self.fp = self.fn = self.n = 0

    def line(self) -> str:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return f"precision={precision:.3f} recall={recall:.3f} f1={f1:.3f} n={self.n}"


def run_match_eval(args: argparse.Namespace, settings: Settings | None) -> int:
    engine = _engine()
    if engine is None:
        return EXIT_USAGE
    try:
        lines = args.path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"newsalert: cannot read {args.path}: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return EXIT_USAGE
    score = _Score()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        case = _parse_case(line)
        if case is None:
            print(f"newsalert: {args.path}:{number}: not a case {{id, query, text, match}}", file=sys.stderr)
            return EXIT_USAGE
        print(_score_case(engine, case, score))
    print(score.line())
    return EXIT_OK


def _parse_case(line: str) -> dict[str, Any] | None:
    import json

    try:
        case = json.loads(line)
    except json.JSONDecodeError:
        return None
    valid = (
        isinstance(case, dict)
        and isinstance(case.get("query"), str)
        and isinstance(case.get("text"), str)
        and isinstance(case.get("match"), bool)
    )
    return case if valid else None


def _score_case(engine: MatchEngine, case: dict[str, Any], score: _Score) -> str:
    from bot.core.matching import QueryError

    expected: bool = case["match"]
    lang = case.get("lang") if case.get("lang") in ("de", "en") else None
    try:
        got = engine.match(case["query"], case["text"], lang).matched
        note = ""
    except QueryError as exc:  # an unusable query matches nothing; say why on the case's line
        got, note = False, f"  ({exc})"
    score.n += 1
    if got and expected:
        score.tp += 1
    elif got:
        score.fp += 1
    elif expected:
        score.fn += 1
    verdict = "ok" if got == expected else ("FALSE" if got else "MISS")
    return f"{verdict} {case.get('id', '?')} {case['query']}{note}"
