"""The check server: a check it serves gives what a local check gives, on a copy of the
one-section adversarial course; the caller's environment never reaches student code."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from helpers import ROOT, run_cli

COURSE = ROOT / "tests" / "adversarial" / "course"
SECRET = "-".join(["caller", "only", "4711"])

SNOOP = textwrap.dedent('''
    """9.1 that adds 1 to every sum when the caller's secret is anywhere in its memory."""
    import ctypes, os

    def _leaked():
        head, tail = b"-".join([b"caller", b"only", b""]), b"4711"
        ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: a jailed worker may read its own /proc files
        with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
            for line in maps:
                span, perms = line.split()[:2]
                if not perms.startswith("rw"):
                    continue
                lo, hi = (int(x, 16) for x in span.split("-"))
                try:
                    mem.seek(lo)
                    data = mem.read(hi - lo)
                except OSError:
                    continue
                at = data.find(head)
                while at >= 0:
                    if data[at + len(head):at + len(head) + 4] == tail:
                        return True
                    at = data.find(head, at + 1)
        return False

    LEAK = _leaked()

    def add(a, b): return a + b + (1 if LEAK else 0)
    def scale(t, k): return t * k
    def label(n): return f"item-{n}"
    def total(values): return float(sum(values))
''')


@pytest.fixture
def served(tmp_path):
    """A course copy, a private runtime directory, and a started server (stopped afterwards)."""
    root = tmp_path / "course"
    shutil.copytree(COURSE, root, ignore=shutil.ignore_patterns("__pycache__"))
    runtime = Path(tempfile.mkdtemp(prefix="hfr-"))
    env = {"HFCOURSE_ROOT": str(root), "HFCOURSE_SERVER": "1", "XDG_RUNTIME_DIR": str(runtime),
           "HFCOURSE_TEST_SECRET": SECRET}

    def cli(*args: str, **extra: str):
        return run_cli(*args, cwd=root, env={**env, **extra}, timeout=300)

    cli.env = env

    started = cli("server", "start")
    assert started.returncode == 0, started.stderr
    yield root, cli
    cli("server", "stop")
    shutil.rmtree(runtime, ignore_errors=True)


def _score_line(text: str) -> str:
    return next(line for line in text.splitlines() if "9.1" in line and "/" in line)


def test_a_served_check_gives_what_a_local_check_gives(served):
    root, cli = served
    remote = cli("check", "9.1", "--target", "solutions")
    local = cli("check", "9.1", "--target", "solutions", HFCOURSE_SERVER="0")
    assert remote.returncode == local.returncode == 0, remote.stdout + remote.stderr
    assert _score_line(remote.stdout) == _score_line(local.stdout)
    assert "5 / 5" in _score_line(remote.stdout)
    assert "1 command(s) served" in cli("server", "status").stdout
    assert '"9.1"' in (root / ".hfcourse" / "state.json").read_text()
    stubs = cli("check", "9.1")
    assert stubs.returncode == 1 and "NOT_ATTEMPTED" in stubs.stdout
    assert "2 command(s) served" in cli("server", "status").stdout


def test_grade_is_served_when_asked_for(served, tmp_path):
    root, cli = served
    reports = {}
    for mode in ("1", "0"):
        out = tmp_path / f"report-{mode}.json"
        proc = cli("grade", "--target", "exercises", "--seed", "5", "--format", "json", "--out", str(out),
                   HFCOURSE_SERVER=mode)
        assert proc.returncode == 0, proc.stderr
        reports[mode] = json.loads(out.read_text())
    assert "1 command(s) served" in cli("server", "status").stdout
    assert [(t["nodeid"], t["category"]) for t in reports["1"]["tests"]] == \
        [(t["nodeid"], t["category"]) for t in reports["0"]["tests"]]
    assert reports["1"]["seed"] == 5


def test_a_killed_caller_stops_its_served_grading(served, tmp_path):
    root, cli = served
    out = tmp_path / "report.json"
    hang = ROOT / "tests" / "adversarial" / "submissions" / "x14_hang"
    proc = subprocess.Popen([sys.executable, "-m", "hfcourse.cli", "grade", "--target", str(hang), "--format", "json",
                             "--out", str(out)], cwd=root, env={**os.environ, **cli.env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    time.sleep(3)  # inside the first hanging call (each may take 4 s)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 60
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    report = json.loads(out.read_text())
    assert report["interrupted"] is True and report["score"] == 0


def test_the_servers_scratch_is_its_own_and_survives_a_sweep(served):
    """The caller that started the server has exited: the scratch is named after the server."""
    import re

    from hfcourse import paths

    _, cli = served
    pid = re.search(r"pid (\d+)", cli("server", "status").stdout).group(1)
    mine = list(Path(tempfile.gettempdir()).glob(f"hfcourse-server-p{pid}.*"))
    assert len(mine) == 1 and (mine[0] / "hf").is_dir()
    assert mine[0] not in paths.sweep_scratch()
    assert mine[0].is_dir()
    again = cli("check", "9.1", "--target", "solutions")
    assert again.returncode == 0 and "5 / 5" in _score_line(again.stdout)
    cli("server", "stop")
    deadline = time.monotonic() + 30
    while mine[0].exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not mine[0].exists()


def test_other_settings_are_not_served_by_this_server(served):
    """The checkout's one server is listed under other settings too, as one the next check replaces."""
    _, cli = served
    assert cli("server", "status").returncode == 0
    other = cli("server", "status", HFCOURSE_SANDBOX="L0")
    assert other.returncode == 1 and "pid" in other.stdout and "starts a fresh one" in other.stdout


def _wait_for_server(cli, seconds: float = 240) -> subprocess.CompletedProcess:
    deadline = time.monotonic() + seconds
    while True:
        status = cli("server", "status")
        if status.returncode == 0 or time.monotonic() > deadline:
            return status
        time.sleep(1)


def _other_interpreter_name() -> str:
    """Another name of this interpreter (a notebook kernel's ``python3`` beside the console's ``python``)."""
    here = Path(sys.executable)
    for name in ("python3", "python3.11", "python3.12", "python3.10", "python3.13", "python"):
        other = here.with_name(name)
        if other.name != here.name and other.exists() and other.resolve() == here.resolve():
            return str(other)
    pytest.skip("this interpreter has no second name beside it")


def test_a_redirected_check_starts_the_one_server_a_notebook_shares(tmp_path):
    """Output captured (not a terminal): the first check still starts the checkout's server; a
    check through another name of the interpreter (as a notebook's check cell runs) uses it, and
    `server status` / `server stop` see it."""
    root = tmp_path / "course"
    shutil.copytree(COURSE, root, ignore=shutil.ignore_patterns("__pycache__"))
    runtime = Path(tempfile.mkdtemp(prefix="hfr-"))
    env = {"HFCOURSE_ROOT": str(root), "HFCOURSE_SERVER": "", "XDG_RUNTIME_DIR": str(runtime)}

    def cli(*args: str):
        return run_cli(*args, cwd=root, env=env, timeout=300)

    try:
        first = cli("check", "9.1", "--target", "solutions")
        assert first.returncode == 0, first.stdout + first.stderr
        assert _wait_for_server(cli).returncode == 0, "a redirected check did not start the server"
        kernel = subprocess.run([_other_interpreter_name(), "-m", "hfcourse.cli", "check", "9.1", "--target",
                                 "solutions"], cwd=root / "ch9" if (root / "ch9").is_dir() else root,
                                capture_output=True, text=True, timeout=300,
                                env={**os.environ, **env, "HFCOURSE_SERVER": "1"})
        assert kernel.returncode == 0 and "5 / 5" in _score_line(kernel.stdout), kernel.stdout + kernel.stderr
        status = cli("server", "status")
        assert status.stdout.count("pid ") == 1 and "1 command(s) served" in status.stdout, status.stdout
        assert list(runtime.glob("hfcourse-*/check-*.sock")) == list(runtime.glob("hfcourse-*/*.sock"))
        assert len(list(runtime.glob("hfcourse-*/*.sock"))) == 1
        assert "1 check server(s)" in cli("server", "stop").stdout
        assert cli("server", "status").returncode == 1
    finally:
        cli("server", "stop")
        shutil.rmtree(runtime, ignore_errors=True)


def test_stop_stops_every_server_of_the_checkout(served):
    """A server of an older hfcourse, on a socket of another name, is the checkout's too."""
    _, cli = served
    runtime = Path(cli.env["XDG_RUNTIME_DIR"])
    sock = next(runtime.glob("hfcourse-*/check-*.sock"))
    older = sock.with_name("check-0123456789abcdef.sock")
    os.link(sock, older)  # the same server answering on a second name: listed twice, once per socket
    try:
        status = cli("server", "status")
        assert status.stdout.count("pid ") == 2, status.stdout
        assert "check server(s) of this checkout stopped" in cli("server", "stop").stdout
        after = cli("server", "status")
        assert after.returncode == 1 and "pid " not in after.stdout
    finally:
        older.unlink(missing_ok=True)


def test_stop_removes_the_server(served):
    _, cli = served
    assert "stopped" in cli("server", "stop").stdout
    assert cli("server", "status").returncode == 1


def test_student_code_never_sees_the_callers_environment(served, tmp_path, monkeypatch):
    root, cli = served
    submission = tmp_path / "submission"
    (submission / "ch9").mkdir(parents=True)
    (submission / "ch9" / "s1_arith.py").write_text(SNOOP)
    # The snooping module does find the secret where it is there to find:
    monkeypatch.setenv("HFCOURSE_TEST_SECRET", SECRET)
    spec = importlib.util.spec_from_file_location("snoop", submission / "ch9" / "s1_arith.py")
    snoop = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(snoop)
    assert snoop.LEAK and snoop.add(1, 1) == 3
    served_check = cli("check", "9.1", "--target", str(submission))
    assert "served" in cli("server", "status").stdout
    assert served_check.returncode == 0 and "5 / 5" in _score_line(served_check.stdout), served_check.stdout
