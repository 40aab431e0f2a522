"""The exercism, JUnit, GitHub and CSV reports, rendered from one RunResult built here."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest

from helpers import run_cli
from hfcourse.report import FORMATS, render
from hfcourse.results import BenchFigure, RunResult, TestResult

CANARY = "CANARY-7f3a"
"""Planted in hidden tests' printed output (never shown anywhere) and message (never shown on GitHub)."""
GRADER = "graders/ch2/test_s2_behind_the_pipeline.py"


def _run() -> RunResult:
    hint = dict(hint="use softmax", hint_zh="使用softmax")
    run = RunResult(target="exercises", seed=987654, started="2026-01-01T00:00:00+00:00", duration=4.25,
                    sandbox={"level": "L1"})
    run.tests = [
        TestResult("2.2", "test_preprocess_pads_and_truncates", f"{GRADER}::test_preprocess_pads_and_truncates",
                   2, 2, "passed", visibility="visible", duration=0.5, output="ok", **hint),
        TestResult("2.2", "test_predict_proba_is_a_distribution_per_text",
                   f"{GRADER}::test_predict_proba_is_a_distribution_per_text", 0, 2, "failed", "WRONG_RESULT",
                   "probabilities: expected [0.2, 0.8], got [0.5, 0.5] | 100% <b>off</b>, a:b",
                   likely="softmax over dim=-1", likely_zh="在 dim=-1 上做softmax", visibility="visible",
                   output="\x1b[31mdebug\x1b[0m " + "x" * 700, duration=1.25, **hint),
        TestResult("2.2", "test_hidden_states", f"{GRADER}::test_hidden_states", 0, 2, "failed", "WRONG_RESULT",
                   f"last hidden state: 3 of 40 values differ {CANARY}-message", output=f"{CANARY}-output",
                   duration=2.0, **hint),
        TestResult("2.3", "test_encode_pair", "graders/ch2/test_s3_models.py::test_encode_pair", 0, 3, "failed",
                   "TIMEOUT", "the call did not finish in 10 s", visibility="visible", duration=10.0, **hint),
        TestResult("2.3", "test_truncate_batch", "graders/ch2/test_s3_models.py::test_truncate_batch", 1, 1,
                   "passed", duration=0.1, **hint),
    ]
    run.sections = [{"id": "2.2", "title": "Behind the pipeline", "title_zh": "pipeline的内部", "max_points": 6, "score": 2},
                    {"id": "2.3", "title": "Models", "title_zh": "模型", "max_points": 4, "score": 1}]
    run.benchmarks = [BenchFigure("2.2", "test_predict_proba_is_a_distribution_per_text", "texts/s", 900.0, 1000.0,
                                  0.9, 0.5, 7)]
    return run


def test_every_format_is_a_cli_choice():
    assert {"exercism", "junit", "github", "csv"} <= set(FORMATS)
    proc = run_cli("grade", "--format", "nonsense", timeout=120)
    assert proc.returncode == 2
    for fmt in ("exercism", "junit", "github", "csv"):
        assert fmt in proc.stderr


# -- exercism ----------------------------------------------------------------------

def test_exercism_v3_fields_and_statuses():
    data = json.loads(render(_run(), "exercism"))
    assert data["version"] == 3 and data["status"] == "fail" and data["message"] is None
    tests = data["tests"]
    assert [t["name"] for t in tests] == ["2.2 test_preprocess_pads_and_truncates",
                                         "2.2 test_predict_proba_is_a_distribution_per_text",
                                         "2.2 test_hidden_states", "2.3 test_encode_pair", "2.3 test_truncate_batch"]
    for t in tests:
        assert set(t) == {"name", "status", "message", "output", "test_code", "task_id"}
    assert [t["status"] for t in tests] == ["pass", "fail", "fail", "error", "pass"]
    assert [t["task_id"] for t in tests] == [1, 1, 1, 2, 2]
    assert tests[0]["message"] is None
    wrong = tests[1]["message"]
    assert wrong.startswith("[WRONG_RESULT]") and "Likely mistake: softmax over dim=-1" in wrong and "提示：使用softmax" in wrong
    assert tests[3]["message"].startswith("[TIMEOUT] the call did not finish in time / 调用超时")


def test_exercism_output_is_capped_at_500_and_hidden_output_never_shown():
    tests = json.loads(render(_run(), "exercism"))["tests"]
    out = tests[1]["output"]
    assert len(out) <= 500 and out.endswith("[Output was truncated. Please limit to 500 chars]")
    assert out.startswith("debug xxx"), "ANSI escapes are stripped"
    assert tests[2]["output"] is None and tests[4]["output"] is None
    assert tests[0]["output"] == "ok"
    assert f"{CANARY}-output" not in json.dumps(tests)


def test_exercism_test_code_shows_visible_tests_only():
    tests = json.loads(render(_run(), "exercism"))["tests"]
    assert tests[0]["test_code"].startswith("def test_preprocess_pads_and_truncates(student, fx, rng):")
    assert "expect.equal" in tests[0]["test_code"]
    assert "def " not in tests[2]["test_code"] and "hidden" in tests[2]["test_code"]


def test_exercism_error_when_nothing_ran_or_interrupted():
    empty = RunResult(target="x", seed=1, started="", errors=["grader modules missing"])
    data = json.loads(render(empty, "exercism"))
    assert data["status"] == "error" and data["message"] == "grader modules missing" and data["tests"] == []
    cut = _run()
    cut.interrupted = True
    data = json.loads(render(cut, "exercism"))
    assert data["status"] == "error" and "interrupted" in data["message"]
    passed = _run()
    for t in passed.tests:
        t.status, t.points = "passed", t.max_points
    assert json.loads(render(passed, "exercism"))["status"] == "pass"


# -- JUnit ---------------------------------------------------------------------------
# The rules of the JUnit schema pytest validates its own reports with (junit-10.xsd): which
# children and attributes each element may have, which attributes are required, and the
# SUREFIRE_TIME pattern of suite times. No schema library is installed, so they are checked here.

_TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]{0,3})?")
_SCHEMA = {
    "testsuites": ({"testsuite"}, set(), {"name", "time", "tests", "failures", "errors"}),
    "testsuite": ({"testsuite", "properties", "testcase", "system-out", "system-err"},
                  {"name", "tests", "failures", "errors"},
                  {"name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp", "hostname", "id",
                   "package", "file", "log", "url", "version"}),
    "properties": ({"property"}, set(), set()),
    "property": (set(), {"name", "value"}, {"name", "value"}),
    "testcase": ({"skipped", "errors", "failure", "rerunFailure", "rerunError", "flakyFailure", "flakyError",
                  "system-out", "system-err"}, {"name"}, {"name", "time", "classname", "group"}),
    "failure": (set(), set(), {"type", "message"}),
    "system-out": (set(), set(), set()),
}


def _check_schema(element: ET.Element, path: str = "") -> None:
    where = f"{path}/{element.tag}"
    assert element.tag in _SCHEMA, f"{where}: element not in the JUnit schema"
    children, required, allowed = _SCHEMA[element.tag]
    assert required <= set(element.attrib), f"{where}: missing {required - set(element.attrib)}"
    assert set(element.attrib) <= allowed, f"{where}: attributes {set(element.attrib) - allowed} not allowed"
    if element.tag in ("testsuites", "testsuite") and "time" in element.attrib:
        assert _TIME.fullmatch(element.attrib["time"]), f"{where}: time {element.attrib['time']!r}"
    for child in element:
        assert child.tag in children, f"{where}: <{child.tag}> may not appear here"
        _check_schema(child, where)


def _junit() -> ET.Element:
    text = render(_run(), "junit")
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(text.encode("utf-8"))


def test_junit_follows_the_junit_schema():
    root = _junit()
    _check_schema(root)
    assert root.tag == "testsuites" and root.get("tests") == "5" and root.get("failures") == "3"
    assert [s.get("name") for s in root] == ["2.2 Behind the pipeline", "2.3 Models"]


def test_the_schema_check_rejects_what_the_schema_forbids():
    bad = ET.fromstring('<testsuites><testsuite name="a" tests="1" failures="0" errors="0">'
                        '<testcase name="t"><properties/></testcase></testsuite></testsuites>')
    with pytest.raises(AssertionError, match="may not appear"):
        _check_schema(bad)
    with pytest.raises(AssertionError, match="time"):
        _check_schema(ET.fromstring('<testsuites time="1.23456"/>'))


def test_junit_points_cases_and_failures():
    suites = {s.get("name").split()[0]: s for s in _junit()}
    props = {p.get("name"): p.get("value") for p in suites["2.2"].find("properties")}
    assert props["points"] == "2" and props["max_points"] == "6" and props["title_zh"] == "pipeline的内部"
    assert props["test_hidden_states.points"] == "0" and props["test_hidden_states.max_points"] == "2"
    assert props["test_hidden_states.visibility"] == "hidden"
    run = _run()
    for sid, suite in suites.items():
        points = {p.get("name"): float(p.get("value")) for p in suite.find("properties") if p.get("name").endswith(".points")}
        assert sum(points.values()) == run.section_score(sid)
    cases = {c.get("name"): c for s in suites.values() for c in s.iter("testcase")}
    assert cases["test_preprocess_pads_and_truncates"].get("classname") == "graders.ch2.test_s2_behind_the_pipeline"
    assert cases["test_preprocess_pads_and_truncates"].get("time") == "0.500"
    assert cases["test_preprocess_pads_and_truncates"].find("failure") is None
    failure = cases["test_encode_pair"].find("failure")
    assert failure.get("type") == "TIMEOUT" and failure.get("message") == "the call did not finish in 10 s"
    assert "提示：使用softmax" in failure.text
    out = cases["test_predict_proba_is_a_distribution_per_text"].find("system-out").text
    assert out.startswith("debug ") and "\x1b" not in out
    assert cases["test_hidden_states"].find("system-out") is None


def test_junit_stays_well_formed_with_hostile_text():
    run = _run()
    run.tests[1].message = "bad \x00\x07 bytes \ufffe <tag> & ]]> \"quotes\""
    run.tests[1].output = "\x1b[2J\x00 printed"
    root = ET.fromstring(render(run, "junit").encode("utf-8"))
    _check_schema(root)
    failure = next(c for c in root.iter("testcase") if c.get("name") == run.tests[1].name).find("failure")
    assert failure.get("message") == 'bad  bytes  <tag> & ]]> "quotes"'


# -- GitHub --------------------------------------------------------------------------

def _github(monkeypatch) -> str:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return render(_run(), "github")


def test_github_annotations_for_failed_visible_tests_only(monkeypatch):
    lines = [line for line in _github(monkeypatch).splitlines() if line.startswith("::")]
    errors = [line for line in lines if line.startswith("::error ")]
    assert len(errors) == 2
    first = errors[0]
    assert first.startswith("::error file=exercises/ch2/s2_behind_the_pipeline.py,"
                            "title=2.2 test_predict_proba_is_a_distribution_per_text%3A WRONG_RESULT::")
    message = first.split("::", 2)[2]
    assert "\n" not in message and "%0AHint: use softmax%0A提示：使用softmax" in message
    assert "100%25 <b>off</b>" in message
    assert errors[1].startswith("::error file=exercises/ch2/s3_models.py,title=2.3 test_encode_pair%3A TIMEOUT::")
    assert lines[-1] == "::notice title=hfcourse::Points 3/10 / 得分 3/10; 1 hidden test(s) failed / 1 个隐藏测试未通过"


def test_github_never_shows_hidden_messages_or_output(monkeypatch):
    text = _github(monkeypatch)
    assert CANARY not in text
    assert "test_hidden_states" in text and "hidden / 隐藏" in text


def test_github_summary_tables(monkeypatch):
    text = _github(monkeypatch)
    assert "## hfcourse — score / 成绩: 3 / 10" in text
    assert "### 2.2 Behind the pipeline · pipeline的内部 — 2 / 6" in text
    assert "### 2.3 Models · 模型 — 1 / 4" in text
    row = next(line for line in text.splitlines() if line.startswith("| ❌ | test_predict_proba"))
    assert row.count(" | ") == 4, "a pipe in a message must not open a new cell"
    assert "\\| 100% &lt;b&gt;off&lt;/b&gt;" in row and "<br>" in row
    assert "| 2.2 | test_predict_proba_is_a_distribution_per_text | 900.0 texts/s | 1,000.0 | 0.90 | 0.50 |" in text


def test_github_appends_to_the_step_summary_file(monkeypatch, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    text = render(_run(), "github")
    written = summary.read_text(encoding="utf-8")
    assert written.startswith("# earlier step\n## hfcourse — score / 成绩: 3 / 10")
    assert "## hfcourse" not in text and text.splitlines()[0].startswith("::error ")


# -- CSV -----------------------------------------------------------------------------

def test_csv_gradebook_has_one_row_per_section():
    rows = list(csv.DictReader(io.StringIO(render(_run(), "csv"))))
    run = _run()
    assert [r["section"] for r in rows] == ["2.2", "2.3"]
    for r, s in zip(rows, run.sections):
        assert float(r["score"]) == run.section_score(s["id"]) and float(r["max_score"]) == s["max_points"]
    assert rows[0]["title_zh"] == "pipeline的内部"
    assert (rows[0]["tests"], rows[0]["passed"], rows[0]["failed_categories"]) == ("3", "1", "WRONG_RESULT:2")
    assert rows[1]["failed_categories"] == "TIMEOUT:1"
