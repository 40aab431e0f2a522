"""``hfcourse validate``: the real course is consistent; a broken copy of the one-section test
course reports each problem with its fix; the grading checks catch a solution that fails its
graders and a grader test that passes on the stub."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hfcourse import manifest, validate
from helpers import ROOT, run_cli

FAKE = ROOT / "tests" / "adversarial" / "course"
WIDE = {"COLUMNS": "400"}


@pytest.fixture
def fake(tmp_path) -> Path:
    root = tmp_path / "course"
    shutil.copytree(FAKE, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _by_where(problems: list[validate.Problem]) -> dict[str, validate.Problem]:
    return {p.where: p for p in problems}


def test_real_course_static_checks_pass():
    proc = run_cli("validate", "--static", env=WIDE, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "the course is consistent" in proc.stdout


def test_clean_fake_course_has_no_problems(fake):
    assert validate.check_static(manifest.load(fake / "course.toml")) == []


def test_broken_fake_course_reports_every_problem_with_its_fix(fake):
    _edit(fake / "course.toml", "points = 5", "points = 6")
    _edit(fake / "exercises" / "ch9" / "s1_arith.py", "def total", "def total_renamed")
    (fake / "solutions" / "ch9" / "s2_extra.py").write_text("x = 1\n")
    (fake / "graders" / "ch9" / "helpers.py").write_text("y = 2\n")
    _edit(fake / "graders" / "ch9" / "test_s1_arith.py", 'hint="sum the values", hint_zh="对数值求和"', 'hint="sum the values"')
    (fake / "tests" / "mutants").mkdir(parents=True)
    (fake / "tests" / "mutants" / "ch9.toml").write_text(
        '[[mutant]]\nsection = "9.1"\nname = "gone"\nfind = "return a - b"\nreplace = "return b"\n\n'
        '[[mutant]]\nsection = "9.3"\nname = "planned"\nfind = "x"\nreplace = "y"\n')
    with (fake / "course.toml").open("a") as fh:
        fh.write('\n[[section]]\nid = "9.3"\nslug = "more"\ntitle = "More"\ntitle_zh = "更多"\npoints = 1\nstatus = "ready"\n'
                 '\n[[section]]\nid = "9.4"\nslug = "later"\ntitle = "Later"\ntitle_zh = "以后"\npoints = 1\n')
    (fake / "graders" / "ch9" / "test_s4_later.py").write_text('"""Grader of a planned section."""\n')

    problems = validate.check_static(manifest.load(fake / "course.toml"))
    found = _by_where(problems)
    wheres = sorted(found)

    assert "exercises/ch9/s1_arith.py" in found and "hfcourse stubs" in found["exercises/ch9/s1_arith.py"].fix
    assert "solutions/ch9/s2_extra.py" in found and "course.toml" in found["solutions/ch9/s2_extra.py"].fix
    assert "graders/ch9/helpers.py" in found
    marker = [p for p in problems if p.where.endswith("test_total")]
    assert marker and "hint_zh" in marker[0].problem and "hint_zh=" in marker[0].fix
    # test_total lost its marker's Chinese hint, so 4 of 6 claimed points remain well-formed
    assert "9.1" in found and "4 points, course.toml says 6" in found["9.1"].problem
    assert "points = 4" in found["9.1"].fix
    missing = [p for p in problems if p.where == "9.3"]
    assert {p.problem for p in missing} == {"ready but solutions/ch9/s3_more.py is missing",
                                            "ready but graders/ch9/test_s3_more.py is missing"}
    assert any("9.1: gone" in w and "0 times" in found[w].problem for w in wheres)
    notes = [p for p in problems if p.note]
    assert [p.where for p in notes] == ["9.4"]
    for p in problems:
        assert p.fix and p.fix_zh and p.problem_zh, p


def test_cli_prints_the_table_and_exits_1(fake):
    _edit(fake / "course.toml", "points = 5", "points = 7")
    proc = run_cli("validate", "--static", env={**WIDE, "HFCOURSE_ROOT": str(fake)}, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "fix:" in proc.stdout and "set points = 5 in course.toml" in proc.stdout
    assert "1 problem(s)" in proc.stdout
    zh = run_cli("--lang", "zh", "validate", "--static", env={**WIDE, "HFCOURSE_ROOT": str(fake)}, timeout=300)
    assert zh.returncode == 1 and "修复" in zh.stdout and "在 course.toml 中设置 points = 5" in zh.stdout


def test_cli_reports_a_malformed_manifest(fake):
    _edit(fake / "course.toml", 'hints_zh = ["加法、缩放和标签。"]', "hints_zh = []")
    proc = run_cli("validate", "--static", env={**WIDE, "HFCOURSE_ROOT": str(fake)}, timeout=300)
    assert proc.returncode == 1
    assert "1 hints but 0 hints_zh" in proc.stdout and "edit course.toml" in proc.stdout


@pytest.mark.slow
def test_grading_checks_on_the_fake_course(fake):
    course = manifest.load(fake / "course.toml")
    lines: list[str] = []
    _edit(fake / "solutions" / "ch9" / "s1_arith.py", 'return f"item-{n}"', 'return f"item{n}"')
    _edit(fake / "graders" / "ch9" / "test_s1_arith.py",
          '    expect.equal(student.add(a, b), a + b, "sum")', '    expect.true(a >= 0, "drawn input")')
    found = _by_where(validate.check_dynamic(course, list(course.sections), log=lines.append))
    label = found["graders/ch9/test_s1_arith.py::test_label"]
    assert "fails on the reference solution: [WRONG_RESULT]" in label.problem and "solutions/" in label.fix
    add = found["graders/ch9/test_s1_arith.py::test_add"]
    assert add.problem == "passes on the untouched stub instead of NOT_ATTEMPTED"
    # the untouched tests pass on the solution and are NOT_ATTEMPTED on the stub: nothing else is reported
    assert set(found) == {"graders/ch9/test_s1_arith.py::test_label", "graders/ch9/test_s1_arith.py::test_add"}
    assert any("grading solutions" in line for line in lines) and any("grading exercises" in line for line in lines)


@pytest.mark.slow
def test_several_seeds_find_a_grader_that_fails_the_solution_on_some(fake):
    """The solution is wrong only for even inputs: which seeds draw one is known in advance."""
    import hashlib
    import random

    _edit(fake / "solutions" / "ch9" / "s1_arith.py", 'return f"item-{n}"', 'return f"item-{n}" if n % 2 else f"item{n}"')
    nodeid = "graders/ch9/test_s1_arith.py::test_label"

    def fails(seed: int) -> bool:
        digest = hashlib.sha256(f"{seed}:{nodeid}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big")).randrange(10**6) % 2 == 0

    bad = [s for s in range(1, 100) if fails(s)][:2]
    good = [s for s in range(1, 100) if not fails(s)][:2]
    course = manifest.load(fake / "course.toml")
    lines: list[str] = []
    found = _by_where(validate.check_dynamic(course, list(course.sections), log=lines.append,
                                             seeds=[good[0], bad[0], good[1], bad[1]]))
    assert set(found) == {nodeid}
    assert f"fails on the reference solution with 2 of 4 seeds ({bad[0]}, {bad[1]}): [WRONG_RESULT]" in found[nodeid].problem
    assert f"--seed {bad[0]}" in found[nodeid].fix
    assert sum("grading solutions" in line for line in lines) == 4
    assert not validate.check_dynamic(course, list(course.sections), log=lines.append, seeds=good)


def test_a_grader_that_does_not_import_is_reported(fake):
    _edit(fake / "graders" / "ch9" / "test_s1_arith.py", "import torch\n", "import torch_that_is_not_installed\n")
    found = _by_where(validate.check_static(manifest.load(fake / "course.toml")))
    grader = found["graders/ch9/test_s1_arith.py"]
    assert "does not import" in grader.problem and "torch_that_is_not_installed" in grader.problem
    assert found["graders/ch9/test_s1_arith.py"].fix == "run it with pytest and fix the error"


def test_a_section_without_public_tests_gets_a_note(fake):
    _edit(fake / "graders" / "ch9" / "test_s1_arith.py", 'points=1, visibility="visible", hint="a + b"', 'points=1, hint="a + b"')
    problems = validate.check_static(manifest.load(fake / "course.toml"))
    assert [(p.where, p.note) for p in problems] == [("9.1", True)]
    assert "no public test" in problems[0].problem and "it has no visible test" in problems[0].problem
