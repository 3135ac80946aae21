"""``summarize --jsonl`` (batch), ``summary-eval --rouge`` and the focus preference for names over titles."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.core.matching import MatchEngine
from bot.core.summary import summarize
from bot.core.summary.rouge import lead_of_length, score

from .test_cli import run

ROUGE_LINE = re.compile(
    r"^rouge1=(\d\.\d{3}) rouge2=(\d\.\d{3}) rougeL=(\d\.\d{3}) "
    r"lead_rouge1=(\d\.\d{3}) lead_rouge2=(\d\.\d{3}) lead_rougeL=(\d\.\d{3}) n=(\d+)$"
)
ARTICLE = (
    "Kremlchef Wladimir Putin hat Kim Jong Un in Wladiwostok empfangen. Die beiden sprachen stundenlang über "
    "Waffen und Raumfahrt. Nordkorea braucht Lebensmittel, Russland braucht Munition für den Krieg."
)


def test_jsonl_gives_one_line_per_record_in_order_and_errors_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "a", "title": "Putin trifft Kim", "text": "date 2023-09\n" + ARTICLE, "lang": "de"}),
        json.dumps({"id": 2, "text": ""}),
        "not json",
        json.dumps({"id": "c", "text": ARTICLE, "extra": True}),
    ]
    records.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert run("summarize", "--jsonl", str(records), "--focus", "Kim") == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["id"] for o in out] == ["a", 2, None, "c"]
    assert out[0]["bullets"] and "Kim" in out[0]["bullets"][0] and not out[0]["bullets"][0].startswith("date")
    assert out[1] == {"id": 2, "error": "no text"}
    assert out[2]["error"].startswith("line 3: not valid JSON")
    assert out[3]["bullets"]


def test_jsonl_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("summarize", "--jsonl", str(tmp_path / "none.jsonl")) == 2
    assert "no such file" in capsys.readouterr().err


def test_lead_of_equal_length_cuts_at_a_word_boundary() -> None:
    assert lead_of_length("one two three four", 9) == "one two"
    assert lead_of_length("one  two\nthree", 100) == "one two three"


def test_rouge_scores_an_identical_summary_as_perfect() -> None:
    body = "The minister resigned on Monday. Parliament will vote next week. Markets were calm."
    scores = score(["The minister resigned on Monday."], body, "The minister resigned on Monday.")
    assert scores.product["rouge2"] == pytest.approx(1.0)
    assert scores.lead["rouge1"] == pytest.approx(1.0)  # same length from the start: the same words


def test_rouge_eval_prints_the_summary_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "rouge.jsonl"
    body = "Parliament met in the capital on Monday. " * 2 + "The minister resigned after the vote. Markets fell."
    case = {"id": "x", "lang": "en", "title": "Minister resigns", "text": body, "reference": "The minister resigned."}
    cases.write_text(json.dumps(case) + "\n", encoding="utf-8")
    assert run("summary-eval", "--rouge", str(cases)) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert ROUGE_LINE.match(last), last
    assert last.endswith("n=1")


def test_rouge_eval_rejects_a_case_without_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "rouge.jsonl"
    cases.write_text(json.dumps({"id": "x", "text": "Some text here."}) + "\n", encoding="utf-8")
    assert run("summary-eval", "--rouge", str(cases)) == 2
    assert "needs text and reference" in capsys.readouterr().err


def test_first_bullet_names_the_person_rather_than_the_office() -> None:
    engine = MatchEngine.load()
    text = (
        "Russia's president warned the West on Tuesday about new sanctions against his country.\n\n"
        "The talks in Geneva ended without a result. Vladimir Putin later said the country would respond."
    )
    bullets = summarize(text, lang="en", focus=engine.focus_predicate("Putin"), max_bullets=2)
    assert "Putin" in bullets[0]
    only_title = "Russia's president warned the West on Tuesday.\n\nThe talks in Geneva ended without a result."
    first = summarize(only_title, lang="en", focus=engine.focus_predicate("Putin"), max_bullets=2)[0]
    assert first.startswith("Russia's president")
