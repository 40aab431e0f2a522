"""``hfcourse release``: the student repository holds no solution text and no hidden test, and
its own ``hfcourse check`` grades the public tests offline."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from hfcourse import manifest, stubs
from hfcourse.release import ReleaseError, build_release, public_grader
from helpers import ROOT, run_cli

FAKE = ROOT / "tests" / "adversarial" / "course"

GRADER = '''"""A grader."""

import pytest

SECRET = [1, 2, 3]
SHARED = "both"


def _only_hidden():
    return SECRET


def _shared():
    return SHARED


@pytest.fixture
def made(reference):
    return reference


@pytest.mark.grade(points=1, visibility="visible", hint="h", hint_zh="提示")
def test_public(student):
    assert _shared()


# comment of the hidden test
@pytest.mark.grade(points=1, hint="h", hint_zh="提示")
def test_hidden(student):
    assert _only_hidden() and _shared()


@pytest.mark.grade(points=1, visibility="visible", hint="h", hint_zh="提示")
def test_needs_solution(made):
    assert made
'''


def test_public_grader_keeps_visible_tests_without_the_reference():
    public = public_grader(GRADER)
    assert public.kept == ["test_public"]
    assert public.hidden == 1 and public.needs_solution == ["test_needs_solution"]
    for gone in ("test_hidden", "_only_hidden", "SECRET", "comment of the hidden test", "def made", "test_needs_solution"):
        assert gone not in public.text
    for kept in ("def test_public", "def _shared", 'SHARED = "both"', "import pytest", '"""A grader."""'):
        assert kept in public.text


def test_public_grader_refuses_test_classes():
    with pytest.raises(ReleaseError, match="TestThings: a release keeps test functions only"):
        public_grader("class TestThings:\n    def test_x(self):\n        pass\n", "g.py")


def _plant(course: Path) -> dict[str, str]:
    """Canaries in a solution region, a hidden test, a hidden test's constant and a visible test."""
    tag = secrets.token_hex(8)
    canaries = {k: f"canary-{k}-{tag}" for k in ("solution", "hidden", "constant", "visible")}
    sol = course / "solutions" / "ch9" / "s1_arith.py"
    sol.write_text(sol.read_text().replace("    return a + b\n", f'    _ = "{canaries["solution"]}"\n    return a + b\n'))
    grader = course / "graders" / "ch9" / "test_s1_arith.py"
    text = grader.read_text().replace('CANARY = "CANARY_PLACEHOLDER"', f'CANARY = "{canaries["constant"]}"')
    text = text.replace("    values = [rng.random() for _ in range(rng.randrange(5, 50))]",
                        f'    values = [rng.random() for _ in range(rng.randrange(5, 50))]  # {canaries["hidden"]}')
    text = text.replace('expect.equal(student.add(a, b), a + b, "sum")', f'expect.equal(student.add(a, b), a + b, "sum {canaries["visible"]}")')
    grader.write_text(text)
    stubs.generate(manifest.load(course / "course.toml"))
    return canaries


def _all_text(out: Path) -> str:
    parts = []
    for path in out.rglob("*"):
        if path.is_file():
            parts.append(path.read_bytes().decode("utf-8", "replace"))
            if path.suffix == ".zip":
                with zipfile.ZipFile(path) as archive:
                    parts += [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
    return "\n".join(parts)


def test_release_holds_no_solution_text_and_no_hidden_test(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(FAKE, course, ignore=shutil.ignore_patterns("__pycache__"))
    canaries = _plant(course)
    proc = run_cli("release", str(tmp_path / "out" / "release"), "--zip", "--classroom", env={"HFCOURSE_ROOT": str(course)})
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    assert (out / "release.zip").is_file() and (out / "release" / "exercises" / "ch9" / "s1_arith.py").is_file()
    text = _all_text(out)
    assert canaries["visible"] in text, "the planted visible test is missing: the check below could not fail"
    for kind in ("solution", "hidden", "constant"):
        assert canaries[kind] not in text, f"the {kind} canary leaked into the release"
    release = out / "release"
    assert not (release / "solutions").exists() and not (release / "tests").exists()
    assert (release / "notebooks" / "ch9" / "s1_arith.ipynb").is_file()
    grader = (release / "graders" / "ch9" / "test_s1_arith.py").read_text()
    assert "def test_add" in grader and "def test_label" not in grader and "def test_scale" not in grader
    summary = json.loads((release / "release.json").read_text())
    assert summary["sections"] == [{"id": "9.1", "public_tests": ["test_add"], "hidden_tests": 4,
                                    "visible_tests_needing_the_solution": []},
                                   {"id": "9.2", "public_tests": ["test_save"], "hidden_tests": 1,
                                    "visible_tests_needing_the_solution": []}]
    workflow = yaml.safe_load((release / ".github" / "workflows" / "classroom.yml").read_text())
    assert workflow["jobs"]["grade"]["env"]["HFCOURSE_SECTIONS"] == ""
    readme = (release / "README.md").read_text()
    assert "pip install -c constraints.txt -e ." in readme and "hfcourse check 9.1" in readme and "隐藏测试" in readme

    again = run_cli("release", str(release), env={"HFCOURSE_ROOT": str(course)})
    assert again.returncode == 2 and "--force" in again.stderr


def test_release_refuses_a_student_guide_with_solution_text(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(FAKE, course, ignore=shutil.ignore_patterns("__pycache__"))
    (course / "docs").mkdir()
    (course / "docs" / "students.md").write_text("    return t * k\n    return f\"item-{n}\"\n    return float(sum(values))\n")
    with pytest.raises(ReleaseError, match="docs/students.md holds solution text of 9.1"):
        build_release(manifest.load(course / "course.toml"), tmp_path / "out", log=lambda _: None)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_release_check_works_offline(tmp_path):
    release = tmp_path / "release"
    proc = run_cli("release", str(release))
    assert proc.returncode == 0, proc.stderr
    # The grader runs the release's harness (PYTHONPATH); workers start with ``python -I`` and import the harness
    # installed in this venv, which the level-1 jail does not expose: a student's `pip install -e .` of the release
    # has one harness for both, so the test keeps the worker's namespaces off.
    env = {"PYTHONPATH": str(release / "src"), "HFCOURSE_ROOT": str(release), "HF_HUB_OFFLINE": "1",
           "HFCOURSE_SANDBOX": "L0"}
    where = subprocess.run([sys.executable, "-c", "import hfcourse; print(hfcourse.__file__)"], env={**os.environ, **env},
                           capture_output=True, text=True, cwd=release)
    assert where.stdout.strip() == str(release / "src" / "hfcourse" / "__init__.py")

    stub = run_cli("grade", "--target", "exercises", "--sections", "2.2", "--format", "json", "--out",
                   str(tmp_path / "stub.json"), env=env, cwd=release)
    assert stub.returncode == 0, stub.stderr[-3000:]
    report = json.loads((tmp_path / "stub.json").read_text())
    assert [t["name"] for t in report["tests"]] == ["test_preprocess_pads_and_truncates",
                                                    "test_predict_proba_is_a_distribution_per_text"]
    assert {t["category"] for t in report["tests"]} == {"NOT_ATTEMPTED"}

    shutil.copy(ROOT / "solutions" / "ch2" / "s2_behind_the_pipeline.py", release / "exercises" / "ch2")
    check = run_cli("check", "2.2", env=env, cwd=release)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-2000:]
    assert "4 / 4" in check.stdout
