"""Progress state, `hfcourse status`, `next`, `hint` and `watch`, on copies of the one-section
adversarial test course (fast to grade; the real course is never modified)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers import ROOT, interruptible, run_cli
from hfcourse import manifest, progress
from hfcourse.results import RunResult

COURSE = ROOT / "tests" / "adversarial" / "course"


@pytest.fixture
def course_copy(tmp_path) -> Path:
    root = tmp_path / "course"
    shutil.copytree(COURSE, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=root, env={"HFCOURSE_ROOT": str(root)}, timeout=300)


def _run(score: float, interrupted: bool = False) -> RunResult:
    return RunResult(target="exercises", seed=1, started="now", interrupted=interrupted,
                     sections=[{"id": "9.1", "title": "Arithmetic", "title_zh": "算术", "max_points": 5.0, "score": score}])


def test_record_writes_state_and_its_gitignore(course_copy):
    course = manifest.load(course_copy / "course.toml")
    assert progress.next_section(course, progress.load(course)).id == "9.1"
    progress.record(course, _run(3.0))
    data = json.loads((course_copy / ".hfcourse" / "state.json").read_text())
    assert data["sections"]["9.1"]["score"] == 3.0 and data["sections"]["9.1"]["target"] == "exercises"
    assert (course_copy / ".hfcourse" / ".gitignore").read_text().strip().endswith("*")
    assert progress.next_section(course, progress.load(course)).id == "9.1"
    progress.record(course, _run(5.0, interrupted=True))
    assert progress.load(course).sections["9.1"]["score"] == 3.0, "an interrupted run must not be recorded"
    progress.record(course, _run(5.0))
    assert progress.next_section(course, progress.load(course)).id == "9.2"
    _finish_all(course)
    assert progress.next_section(course, progress.load(course)) is None


def test_unreadable_state_starts_afresh(course_copy):
    (course_copy / ".hfcourse").mkdir()
    (course_copy / ".hfcourse" / "state.json").write_text("{not json")
    course = manifest.load(course_copy / "course.toml")
    assert progress.load(course).sections == {}


def _finish_all(course) -> None:
    for sec in course.sections:
        progress.record(course, RunResult(target="exercises", seed=1, started="now", sections=[
            {"id": sec.id, "title": sec.title, "title_zh": sec.title_zh, "max_points": sec.points, "score": sec.points}]))


def test_status_and_next_in_both_languages(course_copy):
    course = manifest.load(course_copy / "course.toml")
    progress.record(course, _run(2.0))
    top = sum(s.points for s in course.sections if s.ready)
    out = _cli(course_copy, "status", "--all").stdout
    assert "Chapter 9" in out and "2 / 5" in out and "exercises" in out and "Next: 9.1 Arithmetic" in out
    out = _cli(course_copy, "--lang", "zh", "status", "9").stdout
    assert "第 9 章" in out and "下一节：9.1 算术" in out
    assert out.splitlines()[0] == f"0/{len(course.sections)} 个小节满分，2/{top:g} 分"
    out = _cli(course_copy, "next", "--lang", "zh").stdout
    assert "exercises/ch9/s1_arith.py" in out and "hfcourse check 9.1" in out
    _finish_all(course)
    assert "Every ready section has full marks" in _cli(course_copy, "next").stdout


def test_status_is_one_summary_line_then_chapters_and_details_on_request(course_copy):
    course = manifest.load(course_copy / "course.toml")
    progress.record(course, _run(5.0))
    n, top = len(course.sections), sum(s.points for s in course.sections if s.ready)
    out = _cli(course_copy, "status").stdout
    lines = out.splitlines()
    assert lines[0] == f"1/{n} sections, 5/{top:g} points"
    assert f"1/{n}" in out and f"5 / {top:g}" in out, "one row per chapter: sections at full marks, points"
    assert "Chapter 9" not in out and "Arithmetic" not in out and "hfcourse status --all" in out
    assert "Next: 9.2" in out
    detailed = _cli(course_copy, "status", "--all").stdout
    assert detailed.splitlines()[0] == lines[0] and "Chapter 9" in detailed and "Arithmetic" in detailed


def test_status_marks_sections_changed_since_their_last_check(course_copy):
    course = manifest.load(course_copy / "course.toml")
    progress.record(course, _run(2.0))
    assert "Changed since" not in _cli(course_copy, "status").stdout
    module = course_copy / "exercises" / "ch9" / "s1_arith.py"
    module.write_text(module.read_text() + "\n# a change after the check\n")
    out = _cli(course_copy, "status").stdout
    assert "Changed since their last check (check them again): 9.1" in out
    wide = run_cli("status", "--all", cwd=course_copy, env={"HFCOURSE_ROOT": str(course_copy), "COLUMNS": "160"})
    assert "changed since" in wide.stdout
    assert "上次检查之后已修改（请重新检查）：9.1" in _cli(course_copy, "--lang", "zh", "status").stdout
    progress.record(course, _run(2.0))
    assert "Changed since" not in _cli(course_copy, "status").stdout, "a new check takes the mark away"


def test_reset_restores_the_stub_and_keeps_a_backup(course_copy):
    from hfcourse import stubs

    module = course_copy / "exercises" / "ch9" / "s1_arith.py"
    stub = stubs.strip((course_copy / "solutions" / "ch9" / "s1_arith.py").read_text(), "9.1", "solutions/ch9/s1_arith.py")
    mine = "def add(a, b):\n    return a - b  # my attempt\n"
    module.write_text(mine)
    done = _cli(course_copy, "reset", "9.1")
    assert done.returncode == 0 and "restored exercises/ch9/s1_arith.py from its stub" in done.stdout, done.stderr
    assert module.read_text() == stub
    backups = list((course_copy / ".hfcourse" / "backups").glob("s1_arith.*.py"))
    assert [b.read_text() for b in backups] == [mine] and backups[0].name in done.stdout
    again = _cli(course_copy, "reset", "9.1", "--lang", "zh")
    assert "已经是未修改的初始模板" in again.stdout
    assert len(list((course_copy / ".hfcourse" / "backups").iterdir())) == 1
    assert _cli(course_copy, "reset", "4.4.4").returncode == 2


def test_reset_in_a_student_release_takes_the_stub_git_first_recorded(course_copy):
    shutil.rmtree(course_copy / "solutions")
    module = course_copy / "exercises" / "ch9" / "s1_arith.py"
    stub = module.read_text()
    git = ["git", "-C", str(course_copy), "-c", "user.name=s", "-c", "user.email=s@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "exercises"], check=True)
    subprocess.run([*git, "commit", "-qm", "release"], check=True)
    module.write_text("def add(a, b):\n    return 0\n")
    subprocess.run([*git, "commit", "-qam", "my work"], check=True)
    assert "restored" in _cli(course_copy, "reset", "9.1").stdout
    assert module.read_text() == stub


def test_check_without_a_section_checks_the_first_unfinished_one(course_copy):
    course = manifest.load(course_copy / "course.toml")
    progress.record(course, _run(5.0))
    out = _cli(course_copy, "check", "--target", "solutions")
    assert "Checking 9.2" in out.stderr and "9.2" in out.stdout and "9.1" not in out.stdout, out.stdout + out.stderr
    _finish_all(course)
    done = _cli(course_copy, "check")
    assert done.returncode == 0 and "Every ready section has full marks" in done.stdout


def test_hint_levels_one_at_a_time(tmp_path, course_copy):
    toml = course_copy / "course.toml"
    toml.write_text(toml.read_text().replace('hints = ["Add, scale and label."]', 'hints = ["first [a] hint", "second hint"]')
                    .replace('hints_zh = ["加法、缩放和标签。"]', 'hints_zh = ["第一条提示", "第二条提示"]'))
    first = _cli(course_copy, "hint", "9.1").stdout
    assert "Hint 1/2" in first and "first [a] hint" in first and "second hint" not in first
    second = _cli(course_copy, "hint", "9.1", "--lang", "zh").stdout
    assert "提示 2/2" in second and "第二条提示" in second and "这是最后一条提示" in second
    assert "Hint 2/2" in _cli(course_copy, "hint", "9.1").stdout, "the last level stays the last"
    _cli(course_copy, "hint", "9.1", "--reset")
    assert "second hint" not in _cli(course_copy, "hint", "9.1").stdout
    assert "second hint" in _cli(course_copy, "hint", "9.1", "--all").stdout
    bad = _cli(course_copy, "hint", "4.4.4")
    assert bad.returncode == 2 and "no section" in bad.stderr


class _Lines:
    """Collects a process's output in a thread so the test can wait for text to appear."""

    def __init__(self, proc: subprocess.Popen):
        self.text = ""
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self.text += line

    def wait_for(self, needle: str, after: int = 0, timeout: float = 180) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            at = self.text.find(needle, after)
            if at >= 0:
                return at
            time.sleep(0.2)
        raise AssertionError(f"{needle!r} did not appear in:\n{self.text[-3000:]}")


@pytest.mark.slow
def test_watch_rechecks_on_save_and_records_progress(course_copy):
    env = {**os.environ, "HFCOURSE_ROOT": str(course_copy), "COLUMNS": "120"}
    proc = subprocess.Popen([sys.executable, "-m", "hfcourse.cli", "watch", "9.1", "--interval", "0.3"],
                            cwd=course_copy, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, preexec_fn=interruptible)
    out = _Lines(proc)
    try:
        first = out.wait_for("check #1")
        waiting = out.wait_for("waiting for you to save", first)
        assert "0 / 5" in out.text[first:waiting] and "NOT_ATTEMPTED" in out.text[first:waiting]
        shutil.copyfile(course_copy / "solutions" / "ch9" / "s1_arith.py", course_copy / "exercises" / "ch9" / "s1_arith.py")
        second = out.wait_for("check #2", waiting)
        offer = out.wait_for("Next: 9.2 Saving files · press Enter to watch it", second)
        out.wait_for("waiting for you to save", offer)
        assert "5 / 5" in out.text[second:] and "full marks" in out.text[second:]
        proc.stdin.write("\n")
        proc.stdin.flush()
        third = out.wait_for("check #3", offer)
        out.wait_for("waiting for you to save", third)
        assert "s2_files.py" in out.text[offer:third] and "9.2" in out.text[third:]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    out.wait_for("stopped watching", timeout=10)
    state = json.loads((course_copy / ".hfcourse" / "state.json").read_text())
    assert state["sections"]["9.1"]["score"] == 5.0
    assert "5 / 5" in _cli(course_copy, "status", "--all").stdout
