"""A grader that fails in its own code: the test is GRADER_ERROR, runs once more with the same
seed, is never scored against the student, and every report format and the exit status say
so. What the grader finds in the student's reply (a missing key, a wrong type) stays the
student's (BAD_OUTPUT, WRONG_RESULT), and is not retried."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hfcourse.report import render
from hfcourse.results import RunResult
from helpers import ROOT, run_grade

COURSE = ROOT / "tests" / "faults" / "course"
MODULE = "ch9/s1_arith.py"


def _grade(tmp_path: Path, target: str = "solutions", seed: int = 7193) -> tuple[int, dict]:
    root = tmp_path / "course"
    if not root.exists():
        shutil.copytree(COURSE, root, ignore=shutil.ignore_patterns("__pycache__"))
    proc, report = run_grade("--target", target, "--seed", str(seed), timeout=300,
                             env={"HFCOURSE_ROOT": str(root), "HFCOURSE_SERVER": "0"})
    assert report is not None, proc.stderr[-3000:]
    return proc.returncode, report


def _submission(tmp_path: Path, replace: dict[str, str]) -> str:
    text = (COURSE / "solutions" / MODULE).read_text()
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "submission" / MODULE
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return str(tmp_path / "submission")


def _tests(report: dict) -> dict[str, dict]:
    return {t["name"]: t for t in report["tests"]}


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> tuple[int, dict]:
    return _grade(tmp_path_factory.mktemp("faults"))


def test_grader_error_is_retried_once_and_not_scored(solved):
    code, report = solved
    tests = _tests(report)
    assert code == 3  # grading ran, and the course had a fault
    broken = tests["test_grader_raises"]
    assert (broken["category"], broken["attempts"], broken["points"]) == ("GRADER_ERROR", 2, 0.0)
    assert "not your mistake" in broken["message"] and "这不是你的错误" in broken["message_zh"]
    assert broken["fault"].startswith("RuntimeError at graders/ch9/test_s1_arith.py:")
    reference = tests["test_reference_fails"]
    assert (reference["category"], reference["attempts"]) == ("GRADER_ERROR", 2)
    assert "reference solution failed" in reference["message"]
    once = tests["test_grader_raises_once"]  # failed in the grader once: the second run counts
    assert (once["status"], once["attempts"], once["points"]) == ("passed", 2, 1.0)
    assert (tests["test_pair"]["status"], tests["test_pair"]["attempts"]) == ("passed", 1)
    # the 3 points the course failed leave the maximum: the student loses nothing
    assert report["score"] == report["max_score"] == 5.0
    assert report["course_fault"] is True and report["ungraded"] == 3.0


def test_every_format_flags_the_course_fault(solved):
    _, report = solved
    run = RunResult.from_json(json.dumps(report))
    gradescope = json.loads(render(run, "gradescope"))
    assert gradescope["extra_data"]["course_fault"] is True and "not your mistake" in gradescope["output"]
    assert [t["extra_data"]["course_fault"] for t in gradescope["tests"]].count(True) == 2
    exercism = json.loads(render(run, "exercism"))
    assert exercism["status"] == "error" and "not your mistake" in exercism["message"]
    junit = render(run, "junit")
    assert junit.count("<error ") == 2 and 'errors="2"' in junit
    github = render(run, "github")
    assert "::error title=hfcourse: the grader failed (not your mistake)::" in github
    rows = render(run, "csv").splitlines()
    assert rows[0].endswith(",ungraded") and rows[1].endswith(",3")
    for fmt in ("gradescope", "exercism", "junit", "github", "csv"):  # the secret seed stays secret
        assert str(run.seed) not in render(run, fmt), fmt


def test_a_bad_reply_is_the_students_fault_and_not_retried(tmp_path):
    sub = _submission(tmp_path, {'return {"sum": a + b, "product": a * b}': 'return {"sum": a + b}',
                                 "    return a + b\n": "    return a - b\n"})
    code, report = _grade(tmp_path, sub)
    tests = _tests(report)
    pair = tests["test_pair"]
    assert (pair["category"], pair["attempts"], pair["points"]) == ("BAD_OUTPUT", 1, 0.0)
    assert "the dict pair returned" in pair["message"] and "KeyError" in pair["message"]
    # wrong before the grader's own fault: the student's result, scored, not retried
    wrong = tests["test_grader_raises"]
    assert (wrong["category"], wrong["attempts"]) == ("WRONG_RESULT", 1)
    assert report["max_score"] == 7.0  # only the reference's fault left the maximum
    assert code == 3


def test_a_list_where_a_dict_was_expected_is_bad_output(tmp_path):
    sub = _submission(tmp_path, {'return {"sum": a + b, "product": a * b}': "return [a + b, a * b]"})
    _, report = _grade(tmp_path, sub)
    pair = _tests(report)["test_pair"]
    assert (pair["category"], pair["attempts"]) == ("BAD_OUTPUT", 1)
    assert "TypeError" in pair["message"]
    # read outside a reply scope: a grader error twice, but the reference's reply passes the
    # same test (the control run), so the student's reply caused it
    unscoped = _tests(report)["test_pair_unscoped"]
    assert (unscoped["category"], unscoped["attempts"], unscoped["points"]) == ("BAD_OUTPUT", 2, 0.0)
    assert "could not use the returned value" in unscoped["message"]


@pytest.mark.slow
def test_the_flake_sweep_finds_grader_errors_and_passes_on_the_retry(tmp_path):
    from hfcourse import flakes, manifest

    root = tmp_path / "course"
    shutil.copytree(COURSE, root, ignore=shutil.ignore_patterns("__pycache__"))
    course = manifest.load(root / "course.toml")
    problems, summary = flakes.sweep(course, list(course.sections), seeds=2, log=lambda line: None,
                                     out=tmp_path / "flakes.json")
    assert summary["runs"] == 3 and len(summary["loaded"]) == 1 and summary["fresh_cache"]
    found = {p.where.rsplit("::", 1)[-1]: p.problem for p in problems}
    assert set(found) == {"test_grader_raises", "test_grader_raises_once", "test_reference_fails"}
    assert "passed only when run again" in found["test_grader_raises_once"]
    assert summary["slowest"]["9.1"]["limit"] == 10.0
    assert json.loads((tmp_path / "flakes.json").read_text())["runs"] == 3
