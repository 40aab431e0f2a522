"""Scratch directories: named after their owner, and swept once the owner is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from hfcourse import paths
from helpers import ROOT


@pytest.fixture
def tmpdir_here(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _made_by_child(code: str) -> tuple[subprocess.Popen, Path]:
    child = subprocess.Popen([sys.executable, "-c", "import sys, tempfile; tempfile.tempdir = sys.argv[1]\n"
                              "from hfcourse import paths\nprint(paths.scratch_dir('work'), flush=True)\n" + code,
                              tempfile.gettempdir()], stdout=subprocess.PIPE, text=True)
    return child, Path(child.stdout.readline().strip())


def test_scratch_of_a_killed_process_is_swept(tmpdir_here):
    child, made = _made_by_child("import time; time.sleep(60)")
    (made / "data").mkdir()
    (made / "data" / "x.bin").write_bytes(b"0" * 1000)
    assert made.parent == tmpdir_here and made.name.startswith(f"hfcourse-work-p{child.pid}.")
    try:
        assert paths.sweep_scratch() == []
        assert made.is_dir()
    finally:
        child.kill()
        child.wait()
    assert paths.sweep_scratch() == [made]
    assert not made.exists()


def test_live_and_foreign_directories_are_kept(tmpdir_here):
    ours = paths.scratch_dir("run")
    other = tmpdir_here / "hfcourse-notes"
    other.mkdir()
    plain = tmpdir_here / "hfcourse-run-p1.2"
    plain.write_text("a file, not a scratch directory")
    assert paths.sweep_scratch() == []
    assert ours.is_dir() and other.is_dir() and plain.is_file()


def test_a_reused_pid_does_not_keep_a_directory(tmpdir_here):
    """Same pid, another start time: the owner is gone and the pid belongs to a new process."""
    me = paths.scratch_dir("run")
    ticks = int(me.name.split("-")[2].split(".")[1])
    stale = tmpdir_here / me.name.replace(f".{ticks}-", f".{ticks + 1}-")
    stale.mkdir()
    assert paths.sweep_scratch() == [stale]
    assert me.is_dir()


def test_with_block_removes_its_scratch(tmpdir_here):
    with paths.scratch("mutants") as tmp:
        (tmp / "f").write_text("x")
    assert not tmp.exists()


@pytest.mark.slow
def test_grading_killed_with_sigkill_leaves_nothing_after_the_next(tmp_path):
    """A grading killed mid-run leaves its scratch (run, zygote, workers) behind; the next
    grading removes it."""
    env = {**os.environ, "TMPDIR": str(tmp_path), "HFCOURSE_SERVER": "0"}
    argv = [sys.executable, "-m", "hfcourse.cli", "grade", "--sections", "2.2"]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(tmp_path.glob("hfcourse-*"))) < 3:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    left = sorted(p.name for p in tmp_path.glob("hfcourse-*"))
    assert any(n.startswith("hfcourse-run-") for n in left) and any(n.startswith("hfcourse-zygote-") for n in left), left
    done = subprocess.run([*argv[:-1], "1.9", "--format", "json"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.glob("hfcourse-*")) == []
