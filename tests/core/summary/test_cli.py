"""``newsalert summarize`` and ``newsalert summary-eval`` end to end (through argparse, real files)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from bot.cli import summarize as command
from bot.core.summary.evaluation import EvalCase, covered, evaluate_case
from bot.core.summary.focus import keyword_focus
from config.settings import Settings

from .conftest import BOX_ITEMS, SEED, SHARED

SUMMARY_LINE = re.compile(r"^coverage=(\d\.\d{3}) lead3=(\d\.\d{3}) focus=(\d\.\d{3}) n=(\d+)$")


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="newsalert")
    command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args, Settings())


def test_summarize_prints_bullets(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("summarize", "--file", str(SEED)) == 0
    assert capsys.readouterr().out.splitlines() == [f"• {item}" for item in BOX_ITEMS]


def test_summarize_json_with_focus(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("summarize", "--file", str(SEED), "--focus", "Kirby", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["focus"] == "Kirby"
    assert "Kirby" in result["bullets"][0]
    assert result["bullets"][1:] == BOX_ITEMS[:2]


def test_summarize_bad_input_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("summarize", "--file", str(tmp_path / "missing.txt")) == 2
    assert capsys.readouterr().err.strip() == f"newsalert: {tmp_path / 'missing.txt'}: no such file"
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert run("summarize", "--file", str(binary)) == 2
    assert "not UTF-8 text" in capsys.readouterr().err
    assert run("summarize", "--file", str(tmp_path)) == 2
    assert "is a folder" in capsys.readouterr().err
    assert run("summarize", "--file", str(SEED), "--bullets", "0") == 2
    assert "--bullets" in capsys.readouterr().err


def test_summarize_empty_article_answers_no(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("date 2023-09\n\n", encoding="utf-8")
    assert run("summarize", "--file", str(empty)) == 1
    assert "no sentence" in capsys.readouterr().err


def _write_cases(path: Path, cases: list[dict]) -> None:
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n", encoding="utf-8")


def test_summary_eval_prints_cases_and_the_score_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.jsonl"
    seed_text = SEED.read_text(encoding="utf-8")
    _write_cases(
        cases,
        [
            {"id": "seed", "lang": "de", "title": None, "text": seed_text, "focus": None, "focus_terms": [],
             "facts": [["Russland"], ["Waffendeal"], ["Munition"], ["Satelliten", "U-Boote"]]},
            {"id": "focus", "lang": "de", "title": None, "text": seed_text, "focus": "Kirby",
             "focus_terms": ["Kirby"], "facts": [["Kirby"]]},
        ],
    )
    assert run("summary-eval", str(cases)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("seed facts 3/4")
    assert any(line.strip() == "missing: Satelliten" for line in lines)
    assert any("first bullet names the focus: yes" in line for line in lines)
    match = SUMMARY_LINE.match(lines[-1])
    assert match, lines[-1]
    coverage, lead3, focus, n = match.groups()
    assert (coverage, focus, n) == ("0.875", "1.000", "2")
    assert float(lead3) < float(coverage)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "cases.jsonl:1: not valid JSON"),
        ('{"id": "x", "text": "Ein Text.", "facts": "Russland"}\n', "cases.jsonl:1: 'facts' must be a list"),
        ('\n{"id": "x", "text": "", "facts": []}\n', "cases.jsonl:2: 'text' must be a non-empty string"),
        ("\n\n", "cases.jsonl: no cases"),
    ],
)
def test_summary_eval_bad_file(tmp_path: Path, content: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(content, encoding="utf-8")
    assert run("summary-eval", str(cases)) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_dev_set_beats_lead3_and_leads_with_the_focus(capsys: pytest.CaptureFixture[str]) -> None:
    dev = SHARED / "eval" / "summary_dev.jsonl"
    if not dev.exists():
        pytest.skip("shared dev set not available")
    assert run("summary-eval", str(dev)) == 0
    match = SUMMARY_LINE.match(capsys.readouterr().out.splitlines()[-1])
    assert match
    coverage, lead3, focus, _ = (float(v) for v in match.groups())
    assert coverage > lead3
    assert focus == 1.0


def test_fact_alternatives_and_case() -> None:
    assert covered(["Die IAEO warnt."], (("el-Baradei", "iaeo"), ("Plutonium",))) == (True, False)


def test_evaluate_case_removes_the_date_header() -> None:
    case = EvalCase("x", "de", None, "date 2023-09 Kim reist nach Russland und trifft dort Putin.", "Putin",
                    ("Putin",), (("2023",), ("Russland",)))
    result = evaluate_case(case, keyword_focus)
    assert result.bullets == ("Kim reist nach Russland und trifft dort Putin.",)
    assert result.covered == (False, True) and result.focus_named is True
