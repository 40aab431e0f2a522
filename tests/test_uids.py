"""Sandbox uids are unique across every grading on the machine at once (Linux as root)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from hfcourse.sandbox.levels import plan

pytestmark = pytest.mark.skipif(not plan().jail, reason=f"sandbox level L1 unavailable: {plan().inactive.get('L1')}")

# A grading's pool of jailed workers, in a pid namespace of its own: its pid is 1, as for a grading
# in a container, or two gradings whose pids agree modulo 4096.
GRADING = textwrap.dedent('''
    import os, sys
    from hfcourse.sandbox.client import WorkerProcess
    workers = [WorkerProcess(f"uid-test-{i}", jail=True, preload=()) for i in range(2)]
    print(os.getpid(), *[w.uid for w in workers], flush=True)
    sys.stdin.readline()
    for w in workers:
        w.close()
''')

CLAIM = "from hfcourse.sandbox.levels import sandbox_uid; print(sandbox_uid(), flush=True); input()"


def _start(script: str, *, own_pids: bool) -> subprocess.Popen:
    argv = [sys.executable, "-c", script]
    return subprocess.Popen(["unshare", "--pid", "--fork", *argv] if own_pids else argv, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)


def test_two_gradings_at_once_never_share_a_sandbox_uid():
    gradings = [_start(GRADING, own_pids=True) for _ in range(2)]
    try:
        lines = [g.stdout.readline().split() for g in gradings]
    finally:
        for g in gradings:
            g.communicate("\n", timeout=60)
    assert [line[0] for line in lines] == ["1", "1"]
    uids = [int(u) for line in lines for u in line[1:]]
    assert len(uids) == 4 and len(set(uids)) == 4, uids


def test_a_uid_is_held_until_released_and_free_again_when_its_holder_dies():
    from hfcourse.sandbox.levels import release_uid, sandbox_uid, uid_holder, uid_last_claimant

    mine = [sandbox_uid() for _ in range(70)]
    assert len(set(mine)) == 70 and all(uid_holder(u) == os.getpid() for u in mine)
    other = _start(CLAIM, own_pids=False)
    theirs = int(other.stdout.readline())
    assert theirs not in mine and uid_holder(theirs) == other.pid
    other.send_signal(signal.SIGKILL)
    other.wait(timeout=10)
    assert uid_holder(theirs) is None and uid_last_claimant(theirs) == other.pid
    release_uid(mine[0])
    assert uid_holder(mine[0]) is None
    again = sandbox_uid()
    assert again not in mine[1:] and uid_holder(again) == os.getpid()
    for uid in [*mine[1:], again]:
        release_uid(uid)
    assert all(uid_holder(u) is None for u in mine)
