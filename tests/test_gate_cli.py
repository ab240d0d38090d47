"""``newsbot check-summaries``: the faithfulness gate over JSON Lines, in process and through a pipe."""

from __future__ import annotations

import io
import json
import select
import subprocess
import sys

import pytest

from bot.cli import main
from tests.support.data import DEMO

SOURCE = ("Migratory birds returned to Shuanggui Lake in record numbers this winter, officials said on Friday. "
          "About 3,000 birds were counted by volunteers.")
GOOD = {"id": "good", "source": SOURCE, "summary": "About 3,000 migratory birds returned to Shuanggui Lake this winter."}
WRONG_NUMBER = {"id": "number", "source": SOURCE, "language": "en",
                "summary": "About 15,000 migratory birds returned to Shuanggui Lake this winter."}
REFUSED = {"id": "number", "faithful": False, "reason": "number: About 15,000 is not in the article", "check": "number"}


def jsonl(*items: object) -> str:
    return "".join((item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)) + "\n" for item in items)


def test_verdicts_in_input_order_as_json_lines(tmp_path, clean_environment, capsys):
    path = tmp_path / "summaries.jsonl"
    path.write_text(jsonl(WRONG_NUMBER, GOOD, {**GOOD, "id": 3}), encoding="utf-8")
    assert main(["check-summaries", str(path), "--json"]) == 0
    captured = capsys.readouterr()
    assert [json.loads(line) for line in captured.out.splitlines()] == [
        REFUSED,
        {"id": "good", "faithful": True, "reason": None, "check": None},
        {"id": 3, "faithful": True, "reason": None, "check": None},
    ]
    assert captured.err == ""


def test_readable_lines_and_the_language_detected_when_absent(tmp_path, clean_environment, capsys):
    path = tmp_path / "summaries.jsonl"
    chinese = {"source": "梁平区今年共种植水稻3万亩，比去年增加了两千亩。", "summary": "梁平区今年种植水稻5万亩。"}
    path.write_text(jsonl(GOOD, WRONG_NUMBER, chinese), encoding="utf-8")
    assert main(["check-summaries", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["good  ok", "number  refused  number: About 15,000 is not in the article"]
    assert out[2].startswith("line 3  refused  number: ")  # judged as Chinese: no id, so its line number


def test_bad_lines_are_reported_and_the_run_goes_on(tmp_path, clean_environment, capsys):
    path = tmp_path / "summaries.jsonl"
    path.write_text(jsonl(GOOD, "{not json", "", '["a list"]', {"id": "no-summary", "source": SOURCE},
                          {"id": "number-summary", "source": SOURCE, "summary": 15}, WRONG_NUMBER), encoding="utf-8")
    assert main(["check-summaries", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    results = [json.loads(line) for line in captured.out.splitlines()]
    assert results[0]["faithful"] is True and results[-1] == REFUSED
    assert results[1] == {"id": None, "line": 2, "faithful": None,
                          "error": "line 2: not valid JSON (Expecting property name enclosed in double quotes, column 2)"}
    assert results[2] == {"id": None, "line": 4, "faithful": None, "error": "line 4: not a JSON object"}  # line 3 is blank
    assert results[3] == {"id": "no-summary", "line": 5, "faithful": None, "error": 'line 5: no "summary"'}
    assert results[4] == {"id": "number-summary", "line": 6, "faithful": None, "error": 'line 6: "summary" is not a string'}
    assert captured.err == "newsbot: error: 4 of 6 lines could not be read\n"

    assert main(["check-summaries", str(path)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "line 2: error: not valid JSON (Expecting property name enclosed in double quotes, column 2)"
    assert out[3] == 'line 5: error: no "summary"'


def test_stdin(clean_environment, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(jsonl(GOOD, WRONG_NUMBER)))
    assert main(["check-summaries", "-", "--json"]) == 0
    assert [json.loads(line)["faithful"] for line in capsys.readouterr().out.splitlines()] == [True, False]


def test_a_missing_file_is_one_line_and_exit_2(tmp_path, clean_environment, capsys):
    assert main(["check-summaries", str(tmp_path / "missing.jsonl")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"newsbot: error: {tmp_path / 'missing.jsonl'}: no such file (give a JSON Lines file, or - for stdin)\n"


@pytest.mark.slow  # a newsbot process: `pytest -m "not slow"` leaves it out
def test_each_verdict_comes_out_before_the_next_line_goes_in(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(DEMO.parent.parent)}
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "check-summaries", "-", "--json"], cwd=tmp_path, env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        for item, faithful in ((WRONG_NUMBER, False), (GOOD, True)):
            process.stdin.write(jsonl(item))
            process.stdin.flush()  # stdin stays open: the verdict must come without waiting for the end
            assert select.select([process.stdout], [], [], 60)[0], "no verdict while the input is still open"
            assert json.loads(process.stdout.readline())["faithful"] is faithful
        process.stdin.close()
        assert process.wait(timeout=60) == 0, process.stderr.read()
        assert process.stdout.read() == ""
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        process.stderr.close()
