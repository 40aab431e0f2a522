"""Reports are rendered from one result model; Gradescope's fields are all there."""

from __future__ import annotations

import io
import json

from rich.console import Console

from hfcourse.report import gradescope_json, print_table
from hfcourse.results import BenchFigure, RunResult, TestResult


def _run() -> RunResult:
    common = dict(hint="use softmax", hint_zh="使用softmax")
    run = RunResult(target="exercises", seed=1234, started="2026-01-01T00:00:00+00:00", duration=3.2,
                    sandbox={"level": "L0"})
    run.tests = [
        TestResult("2.2", "test_a", "graders/x.py::test_a", 2, 2, "passed", visibility="visible", **common),
        TestResult("2.2", "test_b", "graders/x.py::test_b", 0, 3, "failed", "WRONG_RESULT",
                   "probabilities: 3 of 10 values differ", likely="softmax over dim=-1", likely_zh="在 dim=-1 上做softmax",
                   output="debug print", **common),
        TestResult("2.3", "test_c", "graders/y.py::test_c", 0, 1, "failed", "NOT_ATTEMPTED", "not implemented", **common),
    ]
    run.sections = [{"id": "2.2", "title": "Behind the pipeline", "title_zh": "内部", "max_points": 5, "score": 2},
                    {"id": "2.3", "title": "Models", "title_zh": "模型", "max_points": 1, "score": 0}]
    run.benchmarks = [BenchFigure("2.2", "test_a", "sentences/s", 900.0, 1000.0, 0.9, 0.5, 7)]
    return run


def test_result_model_round_trips_through_json():
    run = _run()
    again = RunResult.from_json(run.to_json())
    assert again == run and again.score == 2 and again.max_score == 6
    assert json.loads(run.to_json())["seed"] == 1234


def test_gradescope_results_have_every_required_field():
    data = json.loads(gradescope_json(_run()))
    assert data["score"] == 2 and "execution_time" in data
    for t in data["tests"]:
        assert {"name", "score", "max_score", "status", "visibility", "output", "extra_data"} <= set(t)
        assert {"section", "category"} <= set(t["extra_data"])
    failed = data["tests"][1]
    assert failed["status"] == "failed" and failed["extra_data"]["category"] == "WRONG_RESULT"
    assert "Likely mistake: softmax over dim=-1" in failed["output"] and "提示：使用softmax" in failed["output"]
    assert data["tests"][0]["extra_data"]["category"] == "PASSED"
    assert "seed" not in json.dumps(data), "the secret seed must not reach students"


def test_table_hides_hidden_details_from_students():
    out = io.StringIO()
    print_table(_run(), show_hidden=False, console=Console(file=out, width=120))
    text = out.getvalue()
    assert "2 / 5" in text and "2 / 6" in text
    assert "3 of 10 values differ" not in text and "hidden test" in text
    assert "hint: use softmax" in text


def test_table_in_chinese():
    out = io.StringIO()
    print_table(_run(), lang="zh", console=Console(file=out, width=120))
    text = out.getvalue()
    assert "提示：使用softmax" in text and "可能的错误：在 dim=-1 上做softmax" in text and "总计" in text
