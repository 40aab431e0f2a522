"""Fair timing: a worker's whole process tree can be stopped, resumed, pinned and cleaned of
strays; concurrent measurements claim different cores; a measurement whose co-runners weighed
on one side only is refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from hfcourse.sandbox.fair import SKEW, FairTiming, UnfairMeasurement, claim_core
from hfcourse.sandbox.procs import Tree, _stat

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

BUSY_FAMILY = textwrap.dedent("""
    import os, sys, threading, time
    def spin():
        while True:
            pass
    children = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            if sys.argv[1] == "escape":
                os.setsid()
            spin()
        children.append(pid)
    threading.Thread(target=spin, daemon=True).start()
    print("ready", *children, flush=True)
    time.sleep(120)
""")


@pytest.fixture
def family(request):
    """A process group: a leader with a busy thread and two busy children."""
    mode = getattr(request, "param", "stay")
    proc = subprocess.Popen([sys.executable, "-c", BUSY_FAMILY, mode], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    ready, *children = proc.stdout.readline().split()
    assert ready == "ready"
    time.sleep(0.2)
    try:
        yield Tree(proc.pid)
    finally:
        for pid in map(int, children):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.kill()
        proc.wait()


def _states(tree: Tree) -> set[str]:
    return {(_stat(p) or ["?"])[0] for p in tree.members()}


def test_the_whole_tree_stops_and_resumes(family):
    assert len(family.members()) == 3
    assert family.stop()
    assert _states(family) == {"T"}
    used = family.cpu_seconds()
    time.sleep(0.3)
    assert family.cpu_seconds() - used < 0.05, "a stopped tree used CPU"
    family.resume()
    assert "T" not in _states(family)
    deadline = time.monotonic() + 10
    while family.cpu_seconds() - used < 0.05 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert family.cpu_seconds() - used >= 0.05, "a resumed tree used no CPU"


def test_strays_are_killed_and_the_worker_is_not(family):
    assert family.server() == family.leader
    assert len(family.strays()) == 2
    assert family.kill_strays() == 2
    time.sleep(0.1)
    assert family.members() == [family.leader]


def test_every_thread_is_pinned(family):
    cpus = sorted(os.sched_getaffinity(0))
    assert family.pin({cpus[-1]})
    for pid in family.members():
        for tid in os.listdir(f"/proc/{pid}/task"):
            assert os.sched_getaffinity(int(tid)) == {cpus[-1]}


@pytest.mark.parametrize("family", ["escape"], indirect=True)
def test_a_process_that_leaves_the_group_escapes_the_l0_tree(family):
    """Why L1 finds a worker's processes by uid: at L0 a setsid child is no longer in the group."""
    assert family.members() == [family.leader]


def test_concurrent_measurements_claim_different_cores():
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core")
    with claim_core() as first, claim_core(wait=0.2) as second:
        assert first is not None and second is not None and first != second


def _fair_with(ref_share: float, student_share: float, wall: float = 1.0) -> FairTiming:
    fair = FairTiming(Tree(os.getpid()), Tree(os.getpid()), cpu=0)
    for side, share in (("reference", ref_share), ("student", student_share)):
        record = fair.sides[side]
        record.wall, record.cpu, record.busy = wall, wall * (1 - share), wall
    return fair


def test_a_measurement_moved_by_co_runners_on_one_side_is_refused():
    with pytest.raises(UnfairMeasurement, match="could not be measured fairly"):
        _fair_with(0.6, 0.1).check()
    _fair_with(0.5, 0.5).check()  # load on both sides alike: the paired rounds cancel it
    _fair_with(0.1 + SKEW - 0.01, 0.1).check()
    _fair_with(0.9, 0.0, wall=0.05).check()  # too short to judge with 10 ms ticks
