"""`hfcourse grade --jobs N`: the split into groups, the merge, and a parallel run that reports
exactly what a sequential run with the same seed reports."""

from __future__ import annotations

import json

import pytest

from helpers import ROOT, run_cli
from hfcourse import manifest
from hfcourse.parallel import launches, merge, split
from hfcourse.results import RunResult, TestResult

COURSE = manifest.load(ROOT / "course.toml")


def _sections(*ids: str):
    return [COURSE.section(i) for i in ids]


def test_split_balances_known_times_and_keeps_course_order():
    sections = _sections("1.3", "2.2", "3.4", "5.4", "7.6")
    timings = {"1.3": 7.0, "2.2": 1.0, "3.4": 9.0, "5.4": 11.0, "7.6": 2.0}
    groups = split(sections, 2, timings)
    assert sorted(s.id for g in groups for s in g) == sorted(s.id for s in sections)
    loads = [sum(timings[s.id] for s in g) for g in groups]
    assert max(loads) - min(loads) <= 2.0
    for g in groups:
        assert [s.id for s in g] == [s.id for s in sections if s in g]


def test_sections_that_launch_processes_go_onto_one_group():
    sections = _sections("2.2", "3.4", "5.4", "6.2", "7.2", "7.5")
    together = {s.id for s in sections if launches(s, ROOT / "graders")}
    assert together == {"3.4", "7.2", "7.5"}
    timings = {"2.2": 3.0, "3.4": 9.0, "5.4": 11.0, "6.2": 8.0, "7.2": 10.0, "7.5": 16.0}
    groups = split(sections, 2, timings, together)
    assert [sum(s.id in together for s in g) for g in groups] in ([3, 0], [0, 3])
    assert sorted(s.id for g in groups for s in g) == sorted(s.id for s in sections)


def test_split_never_makes_empty_groups():
    assert [[s.id for s in g] for g in split(_sections("2.2"), 4, {})] == [["2.2"]]


def _run(sid: str, names: list[str], interrupted: bool = False) -> RunResult:
    run = RunResult(target="solutions", seed=7, started="t", interrupted=interrupted,
                    sections=[{"id": sid, "title": sid, "title_zh": sid, "max_points": float(len(names)), "score": 1.0}])
    run.tests = [TestResult(section=sid, name=n, nodeid=f"{sid}::{n}", points=1.0, max_points=1.0, status="passed")
                 for n in names]
    return run


def test_merge_orders_sections_and_tests_by_the_course():
    merged = merge([_run("3.2", ["a"]), _run("1.3", ["b", "c"], interrupted=True)], COURSE, started=0.0)
    assert [s["id"] for s in merged.sections] == ["1.3", "3.2"]
    assert [t.name for t in merged.tests] == ["b", "c", "a"]
    assert merged.interrupted and merged.seed == 7 and merged.max_score == 3.0


@pytest.mark.slow
@pytest.mark.parametrize("target", ["solutions", "exercises"])
def test_parallel_grading_reports_what_sequential_grading_reports(tmp_path, target):
    reports = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}.json"
        proc = run_cli("grade", "--target", target, "--sections", "2.3", "2.4", "2.5", "--seed", "11",
                       "--jobs", jobs, "--format", "json", "--out", str(out), timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        reports[jobs] = json.loads(out.read_text())
    assert "parallel groups" in proc.stderr

    def outcome(report):
        return [(t["nodeid"], t["status"], t["category"], t["points"]) for t in report["tests"]]

    assert outcome(reports["1"]) == outcome(reports["2"])
    assert [s["id"] for s in reports["2"]["sections"]] == ["2.3", "2.4", "2.5"]
    assert reports["1"]["score"] == reports["2"]["score"] and reports["2"]["seed"] == 11
