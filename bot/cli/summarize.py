"""``newsalert summarize`` (bullets of one article) and ``newsalert summary-eval`` (score them)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when the command runs, so `newsalert --help` stays instant
    import logging

    from bot.core.summary.evaluation import CaseResult, EvalCase
    from bot.core.summary.summarizer import Focus
    from config.settings import Settings

EXIT_OK, EXIT_NO, EXIT_USAGE = 0, 1, 2
FocusFactory = Callable[[str], "Focus"]


class UsageError(Exception):
    """Bad input or arguments: one line on stderr, exit code 2."""


def register(sub: argparse._SubParsersAction) -> None:
    one = sub.add_parser("summarize", help="summary bullets of one article (or of each record of a JSONL file)")
    source = one.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="the article: plain text or seed format")
    source.add_argument("--jsonl", type=Path, help="records {id, title, text, lang}: one JSON line of bullets each")
    one.add_argument("--focus", help="a subscription query; the first bullet names it when the text does")
    one.add_argument("--title", help="the article's title (helps ranking; never repeated as a bullet)")
    one.add_argument("--lang", choices=("de", "en"), help="the article's language (guessed when omitted)")
    _budget_arguments(one)
    one.add_argument("--json", action="store_true", help="print one JSON object instead of bullet lines")
    one.set_defaults(func=run_summarize)

    evaluate = sub.add_parser("summary-eval", help="score summary bullets against expected facts (or ROUGE)")
    evaluate.add_argument("file", type=Path, help="JSON lines: {id, lang, title, text, focus, focus_terms, facts}")
    evaluate.add_argument(
        "--rouge", action="store_true", help="cases {id, lang, title, text, reference}: ROUGE against the lead"
    )
    _budget_arguments(evaluate)
    evaluate.set_defaults(func=run_summary_eval)


def _budget_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bullets", type=int, default=3, help="at most this many bullets (default 3)")
    parser.add_argument("--max-chars", type=int, default=200, help="characters per bullet (default 200)")


def run_summarize(args: argparse.Namespace, settings: Settings | None) -> int:
    import json

    from bot.core.ingest.seed import parse_seed_text
    from bot.core.summary import summarize

    if args.jsonl is not None:
        return run_summarize_jsonl(args)
    try:
        _check_budget(args)
        seed = parse_seed_text(_read_text(args.file))
        focus = _focus_factory()(args.focus) if args.focus else None
    except UsageError as exc:
        return _fail(str(exc))
    if seed.warning:
        _log().warning("%s: %s", args.file, seed.warning)
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


def run_summarize_jsonl(args: argparse.Namespace) -> int:
    """One ``{"id", "bullets"}`` line per record, in input order; a bad record gets ``{"id", "error"}``."""
    import json

    try:
        _check_budget(args)
        lines = _read_text(args.jsonl).splitlines()
        focus = _focus_factory()(args.focus) if args.focus else None
    except UsageError as exc:
        return _fail(str(exc))
    for number, line in enumerate(lines, start=1):
        if line.strip():
            print(json.dumps(_summarize_record(line, number, focus, args), ensure_ascii=False), flush=False)
    return EXIT_OK


def _summarize_record(line: str, number: int, focus: Focus | None, args: argparse.Namespace) -> dict[str, Any]:
    import json

    from bot.core.ingest.seed import parse_seed_text
    from bot.core.summary import summarize

    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "error": f"line {number}: not valid JSON ({exc.msg})"}
    if not isinstance(record, dict):
        return {"id": None, "error": f"line {number}: not a JSON object"}
    record_id = record.get("id")
    text, title, lang = record.get("text"), record.get("title"), record.get("lang")
    if not isinstance(text, str) or not text.strip():
        return {"id": record_id, "error": "no text"}
    if title is not None and not isinstance(title, str):
        return {"id": record_id, "error": "title must be a string"}
    lang = lang if lang in ("de", "en") else None
    body = parse_seed_text(text).body
    bullets = summarize(body, lang=lang, title=title, focus=focus, max_bullets=args.bullets, max_chars=args.max_chars)
    return {"id": record_id, "bullets": bullets}


def run_summary_rouge(args: argparse.Namespace) -> int:
    """Per case one line of its scores, then the means: ``rouge1=… … lead_rougeL=… n=…``."""
    from bot.core.summary import rouge, summarize

    try:
        _check_budget(args)
        cases = list(_read_rouge_cases(args.file))
        if not cases:
            raise UsageError(f"{args.file}: no cases")
    except UsageError as exc:
        return _fail(str(exc))
    results = []
    for case_id, title, body, lang, reference in cases:
        bullets = summarize(body, lang=lang, title=title, max_bullets=args.bullets, max_chars=args.max_chars)
        scores = rouge.score(bullets, body, reference)
        results.append(scores)
        own = " ".join(f"{m}={scores.product[m]:.3f}" for m in rouge.MEASURES)
        print(f"{case_id} {own} lead_rouge2={scores.lead['rouge2']:.3f}")
    print(rouge.summary_line(results))
    return EXIT_OK


RougeCase = tuple[str, str | None, str, str | None, str]


def _read_rouge_cases(path: Path) -> Iterator[RougeCase]:
    import json

    from bot.core.ingest.seed import parse_seed_text

    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        fields = data if isinstance(data, dict) else {}
        text, reference, title = fields.get("text"), fields.get("reference"), fields.get("title")
        if not (isinstance(text, str) and isinstance(reference, str) and isinstance(title, str | None)):
            raise UsageError(f"{path}:{number}: a case needs text and reference strings")
        lang = fields.get("lang") if fields.get("lang") in ("de", "en") else None
        yield str(fields.get("id", number)), title, parse_seed_text(text).body, lang, reference


def run_summary_eval(args: argparse.Namespace, settings: Settings | None) -> int:
    from bot.core.summary.evaluation import EvalReport, evaluate_case

    if args.rouge:
        return run_summary_rouge(args)
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
    import json

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
    from config.locations import default_cache_dir

    try:
        from bot.core.matching import MatchEngine, QueryError  # the engine is optional for this command
    except ImportError:
        _log().info("matching engine not available; focus uses the query's own words")
        return keyword_focus
    try:
        engine = MatchEngine.load(default_cache_dir())  # no configuration read here: the default folder
    except (ValueError, OSError) as exc:  # a broken lexicon should not stop summaries
        print(f"newsalert: warning: matching engine unavailable ({exc}); focus uses the query's words", file=sys.stderr)
        return keyword_focus

    def focus_for(query: str) -> Focus:
        try:
            return engine.focus_predicate(query)
        except QueryError as exc:
            raise UsageError(f"bad focus query {query!r}: {exc}") from None

    return focus_for


def _log() -> logging.Logger:
    import logging  # not at the top: `newsalert --help` imports this module

    return logging.getLogger(__name__)


def _fail(message: str) -> int:
    print(f"newsalert: {message}", file=sys.stderr)
    return EXIT_USAGE
