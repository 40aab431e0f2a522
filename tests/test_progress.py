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
    assert progress.next_section(course, progress.load(course)) is None


def test_unreadable_state_starts_afresh(course_copy):
    (course_copy / ".hfcourse").mkdir()
    (course_copy / ".hfcourse" / "state.json").write_text("{not json")
    course = manifest.load(course_copy / "course.toml")
    assert progress.load(course).sections == {}


def test_status_and_next_in_both_languages(course_copy):
    course = manifest.load(course_copy / "course.toml")
    progress.record(course, _run(2.0))
    out = _cli(course_copy, "status").stdout
    assert "Chapter 9" in out and "2 / 5" in out and "exercises" in out and "Next: 9.1 Arithmetic" in out
    out = _cli(course_copy, "--lang", "zh", "status").stdout
    assert "第 9 章" in out and "下一节：9.1 算术" in out
    out = _cli(course_copy, "next", "--lang", "zh").stdout
    assert "exercises/ch9/s1_arith.py" in out and "hfcourse check 9.1" in out
    progress.record(course, _run(5.0))
    assert "Every ready section has full marks" in _cli(course_copy, "next").stdout


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
                            cwd=course_copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=interruptible)
    out = _Lines(proc)
    try:
        first = out.wait_for("check #1")
        waiting = out.wait_for("waiting for you to save", first)
        assert "0 / 5" in out.text[first:waiting] and "NOT_ATTEMPTED" in out.text[first:waiting]
        shutil.copyfile(course_copy / "solutions" / "ch9" / "s1_arith.py", course_copy / "exercises" / "ch9" / "s1_arith.py")
        second = out.wait_for("check #2", waiting)
        out.wait_for("waiting for you to save", second)
        assert "5 / 5" in out.text[second:] and "full marks" in out.text[second:]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    out.wait_for("stopped watching", timeout=10)
    state = json.loads((course_copy / ".hfcourse" / "state.json").read_text())
    assert state["sections"]["9.1"]["score"] == 5.0
    assert "5 / 5" in _cli(course_copy, "status").stdout
