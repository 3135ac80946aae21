from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

DEV_SET = Path(__file__).resolve().parents[3].parent / "shared" / "eval" / "match_dev.jsonl"


def test_match_prints_the_reason_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["match", "--query", "Putin", "--text", "Kremlchef Wladimir Putin empfing den Gast."])
    out = capsys.readouterr().out
    assert code == 0
    assert "Putin → Wladimir Putin" in out
    assert "Kremlchef" in out and "at 0-9" in out


def test_match_without_a_match_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", "--query", "Putin", "--text", "Die Oper über Rasputin."]) == 1
    assert "no match" in capsys.readouterr().out


def test_match_json_from_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Ein Waffendeal zwischen Pjöngjang und Moskau.", encoding="utf-8")
    assert main(["match", "-q", '"arms deal" -Ukraine', "--file", str(article), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["match"] is True
    assert data["hits"] == [
        {"term": "Waffendeal", "surface": "Waffendeal", "start": 4, "end": 14, "via": "lexicon alias"}
    ]


def test_match_bad_input_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", "-q", "(Putin", "--text", "x"]) == 2
    err = capsys.readouterr().err
    assert "bad query" in err and "Traceback" not in err
    assert main(["match", "-q", "Putin", "--file", str(tmp_path / "missing.txt")]) == 2
    assert "cannot read" in capsys.readouterr().err
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"\xff\xfe\x00")
    assert main(["match", "-q", "Putin", "--file", str(binary)]) == 2


def test_match_eval_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.jsonl"
    rows = [
        {"id": "a", "query": "Putin", "lang": "de", "text": "Putins Sprecher.", "match": True},
        {"id": "b", "query": "Russia", "lang": "en", "text": "Borussia won.", "match": False},
        {"id": "c", "query": "Kim", "lang": "en", "text": "Kim said hello.", "match": True},
        {"id": "d", "query": "(Putin", "lang": "en", "text": "Putin.", "match": False},
    ]
    cases.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    assert main(["match-eval", str(cases)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "ok a Putin"
    assert lines[1] == "ok b Russia"
    assert lines[2] == "MISS c Kim"
    assert lines[3].startswith("ok d (Putin")
    assert lines[-1] == "precision=1.000 recall=0.500 f1=0.667 n=4"


def test_match_eval_rejects_a_broken_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "query": "Putin"}\n', encoding="utf-8")
    assert main(["match-eval", str(cases)]) == 2
    assert ":1:" in capsys.readouterr().err


@pytest.mark.skipif(not DEV_SET.is_file(), reason="shared eval set not present")
def test_dev_set_f1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match-eval", str(DEV_SET)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    f1 = float(last.split("f1=")[1].split()[0])
    assert f1 >= 0.97, last
