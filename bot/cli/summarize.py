"""``newsalert summarize`` (bullets of one article) and ``newsalert summary-eval`` (score them)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when the command runs, so `newsalert --help` stays instant
    from bot.core.summary.evaluation import CaseResult, EvalCase
    from bot.core.summary.summarizer import Focus
    from config.settings import Settings

log = logging.getLogger(__name__)

EXIT_OK, EXIT_NO, EXIT_USAGE = 0, 1, 2
FocusFactory = Callable[[str], "Focus"]


class UsageError(Exception):
    """Bad input or arguments: one line on stderr, exit code 2."""


def register(sub: argparse._SubParsersAction) -> None:
    one = sub.add_parser("summarize", help="summary bullets of one article")
    one.add_argument("--file", required=True, type=Path, help="the article: plain text or seed format")
    one.add_argument("--focus", help="a subscription query; the first bullet names it when the text does")
    one.add_argument("--title", help="the article's title (helps ranking; never repeated as a bullet)")
    one.add_argument("--lang", choices=("de", "en"), help="the article's language (guessed when omitted)")
    _budget_arguments(one)
    one.add_argument("--json", action="store_true", help="print one JSON object instead of bullet lines")
    one.set_defaults(func=run_summarize)

    evaluate = sub.add_parser("summary-eval", help="score summary bullets against expected facts")
    evaluate.add_argument("file", type=Path, help="JSON lines: {id, lang, title, text, focus, focus_terms, facts}")
    _budget_arguments(evaluate)
    evaluate.set_defaults(func=run_summary_eval)


def _budget_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bullets", type=int, default=3, help="at most this many bullets (default 3)")
    parser.add_argument("--max-chars", type=int, default=200, help="characters per bullet (default 200)")


def run_summarize(args: argparse.Namespace, settings: Settings | None) -> int:
    from bot.core.ingest.seed import parse_seed_text
    from bot.core.summary import summarize

    try:
        _check_budget(args)
        seed = parse_seed_text(_read_text(args.file))
        focus = _focus_factory()(args.focus) if args.focus else None
    except UsageError as exc:
        return _fail(str(exc))
    if seed.warning:
        log.warning("%s: %s", args.file, seed.warning)
    bullets = summarize(
        seed.body,
        lang=args.lang,
        title=args.title,
        focus=focus,
        max_bullets=args.bullets,
        max_chars=args.max_chars,
    )
    if args.json:
        print(json.dumps({"file": str(args.file), "focus": args.focus, "bullets": bullets}, ensure_ascii=False))
    else:
        for bullet in bullets:
            print(f"• {bullet}")
    if not bullets:
        print(f"newsalert: {args.file}: no sentence to summarise", file=sys.stderr)
        return EXIT_NO
    return EXIT_OK


def run_summary_eval(args: argparse.Namespace, settings: Settings | None) -> int:
    from bot.core.summary.evaluation import EvalReport, evaluate_case

    try:
        _check_budget(args)
        cases = list(_read_cases(args.file))
        if not cases:
            raise UsageError(f"{args.file}: no cases")
        focus_for = _checked_focus_factory(cases)
    except UsageError as exc:
        return _fail(str(exc))
    results = []
    for case in cases:
        result = evaluate_case(case, focus_for, max_bullets=args.bullets, max_chars=args.max_chars)
        _print_case(result)
        results.append(result)
    print(EvalReport(tuple(results)).summary_line())
    return EXIT_OK


def _print_case(result: CaseResult) -> None:
    case = result.case
    focus = f" focus={case.focus!r}" if case.focus else ""
    print(f"{case.id}{focus} facts {sum(result.covered)}/{len(case.facts)} (lead3 {sum(result.lead_covered)})")
    for bullet in result.bullets:
        print(f"  • {bullet}")
    found = [fact[0] for fact, ok in zip(case.facts, result.covered, strict=True) if ok]
    missing = [fact[0] for fact, ok in zip(case.facts, result.covered, strict=True) if not ok]
    print(f"  covered: {', '.join(found) or '-'}")
    if missing:
        print(f"  missing: {', '.join(missing)}")
    if result.focus_named is not None:
        print(f"  first bullet names the focus: {'yes' if result.focus_named else 'NO'}")


def _check_budget(args: argparse.Namespace) -> None:
    if not 1 <= args.bullets <= 20:
        raise UsageError("--bullets must be between 1 and 20")
    if not 20 <= args.max_chars <= 2000:
        raise UsageError("--max-chars must be between 20 and 2000")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a folder, not a file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None


def _read_cases(path: Path) -> Iterator[EvalCase]:
    from bot.core.summary.evaluation import CaseError, parse_case

    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield parse_case(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        except CaseError as exc:
            raise UsageError(f"{path}:{number}: {exc}") from None


def _checked_focus_factory(cases: list[EvalCase]) -> FocusFactory:
    """The focus factory, with every case's focus query tried up front so a bad one fails cleanly."""
    factory = _focus_factory()
    for case in cases:
        if case.focus:
            factory(case.focus)
    return factory


def _focus_factory() -> FocusFactory:
    """The matching engine's focus test (entities and their surface forms); plain keywords without it."""
    from bot.core.summary.focus import keyword_focus

    try:
        from bot.core.matching import MatchEngine, QueryError  # the engine is optional for this command
    except ImportError:
        log.info("matching engine not available; focus uses the query's own words")
        return keyword_focus
    try:
        engine = MatchEngine.load()
    except (ValueError, OSError) as exc:  # a broken lexicon should not stop summaries
        print(f"newsalert: warning: matching engine unavailable ({exc}); focus uses the query's words", file=sys.stderr)
        return keyword_focus

    def focus_for(query: str) -> Focus:
        try:
            return engine.focus_predicate(query)
        except QueryError as exc:
            raise UsageError(f"bad focus query {query!r}: {exc}") from None

    return focus_for


def _fail(message: str) -> int:
    print(f"newsalert: {message}", file=sys.stderr)
    return EXIT_USAGE
