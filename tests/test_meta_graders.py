"""Meta-tests of the graders: solutions score full marks, untouched stubs score zero as
"not attempted", every recorded buggy variant is caught, and a mixed submission scores
exactly what it solved."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hfcourse import manifest, mutants, stubs
from helpers import ROOT, run_grade

pytestmark = pytest.mark.slow

COURSE = manifest.load(ROOT / "course.toml")
READY = [s for s in COURSE.sections if s.ready]
CHAPTERS = sorted({s.chapter for s in READY})
MUTANTS = [m for f in sorted((ROOT / "tests" / "mutants").glob("*.toml")) for m in mutants.load(f)]


def _by_section(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for t in report["tests"]:
        out.setdefault(t["section"], []).append(t)
    return out


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: f"ch{c}")
def test_solutions_get_full_marks(chapter, grading_server):
    proc, report = run_grade("--target", "solutions", "--sections", str(chapter), env=grading_server)
    assert proc.returncode == 0, proc.stderr[-3000:]
    failed = [f"{t['nodeid']}: [{t['category']}] {t['message']}" for t in report["tests"] if t["status"] != "passed"]
    assert not failed, "\n".join(failed)
    assert report["score"] == report["max_score"] > 0
    for sid, tests in _by_section(report).items():
        assert sum(t["max_points"] for t in tests) == COURSE.section(sid).points, (
            f"{sid}: graders give {sum(t['max_points'] for t in tests)} points, course.toml says {COURSE.section(sid).points}")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: f"ch{c}")
def test_stubs_score_zero_as_not_attempted(chapter, grading_server, tmp_path):
    # stubs generated afresh, not exercises/: a student may have done some of those
    pristine = stubs.write_pristine(COURSE, tmp_path / "stubs", [s for s in READY if s.chapter == chapter])
    proc, report = run_grade("--target", str(pristine), "--sections", str(chapter), env=grading_server)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert report["score"] == 0
    wrong = [f"{t['nodeid']}: {t['category']}" for t in report["tests"] if t["category"] != "NOT_ATTEMPTED"]
    assert not wrong, "\n".join(wrong)
    assert {t["section"] for t in report["tests"]} == {s.id for s in READY if s.chapter == chapter}


def test_every_ready_section_has_three_mutants():
    counts = {s.id: sum(m.section == s.id for m in MUTANTS) for s in READY}
    assert all(n >= 3 for n in counts.values()), counts


def _rounds() -> list:
    """Mutants grouped so that one grading run checks at most one mutant per section:
    round i of a chapter holds the i-th mutant of each of its sections."""
    out = []
    for chapter in CHAPTERS:
        per_section: dict[str, list[mutants.Mutant]] = {}
        for m in MUTANTS:
            if COURSE.section(m.section).chapter == chapter:
                per_section.setdefault(m.section, []).append(m)
        for i in range(max((len(v) for v in per_section.values()), default=0)):
            batch = [v[i] for v in per_section.values() if len(v) > i]
            out.append(pytest.param(batch, id=f"ch{chapter}-round{i + 1}"))
    return out


@pytest.mark.parametrize("batch", _rounds())
def test_mutants_are_caught(batch, tmp_path, grading_server):
    sub = tmp_path / "submission"
    for mutant in batch:
        mutants.write_submission(mutant, COURSE, sub)
    proc, report = run_grade("--target", str(sub), "--sections", *[m.section for m in batch], env=grading_server)
    assert proc.returncode == 0, proc.stderr[-3000:]
    tests = _by_section(report)
    missed = []
    for mutant in batch:
        failed = [t for t in tests[mutant.section] if t["status"] != "passed"]
        if not failed:
            missed.append(f"{mutant.id}: no grader test caught it")
        elif any(t["category"] == "NOT_ATTEMPTED" for t in failed):
            missed.append(f"{mutant.id}: reported as NOT_ATTEMPTED")
        elif any(t["category"] == "GRADER_ERROR" for t in failed):
            missed.append(f"{mutant.id}: reported as GRADER_ERROR (a mutant's fault is the student's)")
        elif mutant.category and {t["category"] for t in failed} != {mutant.category}:
            missed.append(f"{mutant.id}: expected only {mutant.category}, got "
                          f"{[(t['name'], t['category'], t['message'][:120]) for t in failed]}")
    assert not missed, "\n".join(missed)


def test_mixed_submission_scores_exactly_what_it_solved(tmp_path):
    first, second = READY[0], READY[1]
    sub = tmp_path / "submission"
    (sub / first.module).parent.mkdir(parents=True)
    shutil.copyfile(ROOT / "solutions" / first.module, sub / first.module)
    (sub / second.module).write_text("def broken(:\n    pass\n")
    proc, report = run_grade("--target", str(sub), "--sections", first.id, second.id)
    assert proc.returncode == 0, proc.stderr[-3000:]
    tests = _by_section(report)
    assert all(t["status"] == "passed" for t in tests[first.id])
    assert sum(t["points"] for t in tests[first.id]) == first.points
    assert all(t["points"] == 0 and t["category"] == "EXCEPTION" for t in tests[second.id])
    assert "SyntaxError" in tests[second.id][0]["message"]
