"""Student code runs in a worker process: every failure becomes a category, never a grader crash."""

from __future__ import annotations

import os
import textwrap
import time

import pytest

from hfcourse.sandbox.client import StudentError, WorkerProcess

MODULE = textwrap.dedent('''
    import os, sys
    def add(a, b): return a + b
    def boom(): raise ValueError("bad thing")
    def todo(): raise NotImplementedError("9.9 todo: not implemented yet")
    def spin():
        while True: pass
    def die(): os._exit(3)
    def leave(): sys.exit(0)
    def weird(): return object()
    def talk(): print("hello from student"); return 1
    def hog(): return bytearray(64 << 30)
    def write(path): open(os.path.join(path, "f.txt"), "w").write("x"); return path
    def env(): return dict(os.environ)
    def cpus(): return sorted(os.sched_getaffinity(0))
    def group(x, scale=1):
        import torch, torch.distributed as dist
        dist.init_process_group("gloo")
        total = torch.tensor([dist.get_rank() + 1.0])
        dist.all_reduce(total)
        out = {"rank": dist.get_rank(), "size": dist.get_world_size(), "sum": total.item() * scale, "x": x}
        dist.destroy_process_group()
        return out
    def second_fails():
        if os.environ["RANK"] == "1": raise ValueError("only in process 1")
        return 0
    def first_aborts():
        if os.environ["RANK"] == "0": os.abort()
        return 0
''')


@pytest.fixture(scope="module", params=["process", "zygote"])
def worker(request, tmp_path_factory):
    """One worker per start mode: a new process, or forked from a zygote."""
    path = tmp_path_factory.mktemp("student") / "mod.py"
    path.write_text(MODULE)
    zygote = request.getfixturevalue("zygote") if request.param == "zygote" else None
    w = WorkerProcess("test", preload=(), zygote=zygote)
    w.load(path, "mod", timeout=30)
    assert w.load_error is None
    yield w
    w.close()


def call(worker, fn, *args, timeout=10):
    return worker.call(fn, args, {}, timeout=timeout).value


@pytest.mark.parametrize("fn, category, words", [
    ("boom", "EXCEPTION", "ValueError: bad thing"),
    ("todo", "NOT_ATTEMPTED", "not implemented yet"),
    ("weird", "UNSUPPORTED_TYPE", "builtins.object cannot be returned"),
    ("leave", "EXCEPTION", "sys.exit"),
    ("hog", "MEMORY", "MemoryError"),
    ("missing", "EXCEPTION", "no function missing"),
])
def test_failures_have_categories_and_the_worker_lives_on(worker, fn, category, words):
    with pytest.raises(StudentError) as err:
        call(worker, fn)
    assert err.value.category == category and words in err.value.message
    assert call(worker, "add", 2, 3) == 5


def test_exception_message_points_at_the_student_line(worker):
    with pytest.raises(StudentError) as err:
        call(worker, "boom")
    assert "line 4, in boom" in err.value.message


def test_timeout_kills_and_the_next_call_restarts(worker):
    start = time.monotonic()
    with pytest.raises(StudentError) as err:
        call(worker, "spin", timeout=1)
    assert err.value.category == "TIMEOUT"
    assert time.monotonic() - start < 10
    assert call(worker, "add", 1, 1) == 2


def test_exit_in_the_call_is_a_crash_then_restart(worker):
    old = worker.proc.pid
    with pytest.raises(StudentError) as err:
        call(worker, "die")
    assert err.value.category == "CRASH" and "code 3" in err.value.message
    with pytest.raises(ProcessLookupError):
        os.kill(old, 0)
    assert call(worker, "add", "a", "b") == "ab"


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_a_worker_can_be_pinned_to_one_core_and_back(worker):
    every = sorted(os.sched_getaffinity(0))
    assert worker.pin({every[-1]}) and call(worker, "cpus") == [every[-1]]
    assert worker.pin(set(every)) and call(worker, "cpus") == every


def test_printed_output_is_captured_per_call(worker):
    reply = worker.call("talk", (), {}, timeout=10)
    assert reply.value == 1 and reply.output == "hello from student\n"


def test_a_call_can_run_in_two_processes_of_one_group(worker):
    got = worker.call("group", ("x",), {"scale": 2}, timeout=120, processes=2).value
    assert [r["rank"] for r in got["ranks"]] == [0, 1]
    assert all(r["size"] == 2 and r["sum"] == 6.0 and r["x"] == "x" for r in got["ranks"]), got
    assert call(worker, "add", 1, 2) == 3


@pytest.mark.parametrize("fn, category, words", [
    ("second_fails", "EXCEPTION", "process 1 of 2: ValueError: only in process 1"),
    ("first_aborts", "EXCEPTION", "process 0 of 2 was killed by SIGABRT (it aborted: in a gloo collective"),
    ("todo", "NOT_ATTEMPTED", "not implemented yet"),
])
def test_a_failure_in_one_process_fails_the_launched_call(worker, fn, category, words):
    with pytest.raises(StudentError) as err:
        worker.call(fn, (), {}, timeout=120, processes=2)
    assert err.value.category == category and words in err.value.message, err.value.message


def test_environment_is_scrubbed_and_offline(worker, monkeypatch):
    env = call(worker, "env")
    assert env["HF_HUB_OFFLINE"] == "1" and env["HOME"] == str(worker.scratch)
    assert not any(k.startswith(("HFCOURSE_ROOT", "PYTEST", "VIRTUAL_ENV")) for k in env)


def test_paths_round_trip_through_scratch(worker):
    from hfcourse.sandbox.codec import ScratchPath

    (worker.scratch / "out").mkdir(exist_ok=True)
    got = call(worker, "write", ScratchPath("out"))
    assert got == worker.scratch / "out" and (got / "f.txt").read_text() == "x"


def test_import_failure_is_reported_for_every_call(tmp_path, start_mode):
    path = tmp_path / "bad.py"
    path.write_text("import sys\nsys.exit(3)\n")
    w = WorkerProcess("bad", preload=(), zygote=start_mode)
    try:
        w.load(path, "bad", timeout=30)
        for _ in range(2):
            with pytest.raises(StudentError) as err:
                w.call("f", (), {}, timeout=5)
            assert "importing the module failed" in err.value.message and "SystemExit" in err.value.message
    finally:
        w.close()


def test_a_sandbox_without_loopback_is_the_graders_problem_not_the_students():
    """A stand-in server that cannot start raises OSError in the grader (GRADER_ERROR), where
    any other failure of the call stays the student's StudentError."""
    from types import SimpleNamespace

    from hfcourse.sandbox.launch import NO_LOOPBACK
    from hfcourse.targets import Target

    class Worker:
        load_error = None

        def __init__(self, message):
            self.message = message

        def call(self, *args, **kwargs):
            raise StudentError("EXCEPTION", self.message, output="printed")

    section = SimpleNamespace(timeout=5, keep_processes=True)  # the fake worker has no processes to reap
    down = Target("student", section, Worker(f"OSError: {NO_LOOPBACK} (connecting failed)"), StudentError("X", "x"))
    with pytest.raises(OSError, match=NO_LOOPBACK):
        down.call("fetch", "url")
    assert down.outputs == ["printed"]
    broken = Target("student", section, Worker("ValueError: bad page"), StudentError("X", "x"))
    with pytest.raises(StudentError, match="bad page"):
        broken.call("fetch", "url")
