"""Fair throughput measurement of two workers, whatever the student's code leaves running.

While one side is timed, the other side is stopped as a whole (``procs.Tree.stop``: every
process and thread of it, including what the student's code forked), and every thread of the
timed side runs on one core that this grading has claimed for itself: gradings running at the
same time (``--jobs``, grade-batch) claim different cores, through a lock file per core.

Each timed call is also checked: the core's busy time that the timed side did not use itself is
time a co-runner took. A measurement in which co-runners took a larger share of the core while
the reference was timed than while the student was timed (by more than ``SKEW``) was moved by
them, and is refused (:class:`UnfairMeasurement`); load that weighs on both sides alike is
left to the pairing of rounds, which cancels it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from hfcourse.sandbox.procs import Tree, cpu_busy

__all__ = ["FairTiming", "UnfairMeasurement", "claim_core", "SKEW"]

SKEW = 0.25
"""Largest allowed difference between the co-runners' share of the core during reference and
during student calls."""
_MIN_CHECKED = 0.3
"""Seconds of timed calls per side below which /proc/stat's 10 ms ticks are too coarse to judge."""


class UnfairMeasurement(RuntimeError):
    """Co-runners moved a throughput measurement (a fault of the machine, not of the student)."""


def _lock_dir() -> Path:
    for base in ("/run/lock", tempfile.gettempdir()):
        if os.path.isdir(base) and os.access(base, os.W_OK):
            return Path(base)
    return Path(tempfile.gettempdir())


@contextlib.contextmanager
def claim_core(wait: float = 120.0) -> Iterator[int | None]:
    """One core of this process's CPU set that no other grading's measurement holds (waiting up
    to ``wait`` seconds for one to be free, then sharing the last one); None on one core."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cpus) < 2:
        yield None
        return
    order = cpus[::-1]  # the last cores first: the first is where interrupts and the system tend to run
    handles = []
    deadline = time.monotonic() + wait
    chosen = None
    try:
        while chosen is None:
            for cpu in order:
                fh = open(_lock_dir() / f"hfcourse-cpu{cpu}.lock", "a+")
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    fh.close()
                    continue
                handles.append(fh)
                chosen = cpu
                break
            if chosen is None:
                if time.monotonic() > deadline:
                    chosen = order[0]
                else:
                    time.sleep(0.05)
        yield chosen
    finally:
        for fh in handles:
            fh.close()


@dataclass
class _Side:
    tree: Tree | None
    wall: float = 0.0
    cpu: float = 0.0
    busy: float = 0.0


@dataclass
class FairTiming:
    """Switch between the student's and the reference's worker around each timed call."""

    student: Tree | None
    reference: Tree | None
    cpu: int | None = None
    sides: dict[str, _Side] = field(default_factory=dict)
    _active: str | None = None
    _open: tuple[float, float, float] | None = None

    def __post_init__(self) -> None:
        self.sides = {"student": _Side(self.student), "reference": _Side(self.reference)}

    def enter(self, side: str) -> None:
        """Make ``side`` the only one that runs (the other stopped), on the claimed core."""
        other = "reference" if side == "student" else "student"
        if self._active != side:
            tree = self.sides[other].tree
            if tree is not None and not tree.stop() and other == "student":
                # processes appearing faster than they can be stopped (a fork loop): the student's
                # processes outside its worker are not needed between calls, so they go
                tree.kill_strays()
                if not tree.stop():
                    raise UnfairMeasurement("the student's processes could not be stopped while the reference was timed")
            mine = self.sides[side].tree
            if mine is not None:
                mine.resume()
                if self.cpu is not None:
                    mine.pin({self.cpu})
            self._active = side

    def start(self, side: str) -> None:
        """Just before ``side``'s timed call."""
        self.enter(side)
        tree = self.sides[side].tree
        self._open = (time.perf_counter(), tree.cpu_seconds() if tree else 0.0,
                      (cpu_busy(self.cpu) or 0.0) if self.cpu is not None else 0.0)

    def stop(self, side: str, wall: float | None = None) -> None:
        """Just after ``side``'s timed call (``wall``: its time as the benchmark measured it)."""
        if self._open is None:
            return
        t0, c0, b0 = self._open
        self._open = None
        tree, record = self.sides[side].tree, self.sides[side]
        record.wall += (time.perf_counter() - t0) if wall is None else wall
        record.cpu += (tree.cpu_seconds() - c0) if tree else 0.0
        if self.cpu is not None:
            record.busy += (cpu_busy(self.cpu) or 0.0) - b0

    def co_runner_share(self, side: str) -> float | None:
        """The share of the claimed core that others took while ``side`` was timed (None when
        it cannot be told: no claimed core, or too little time measured)."""
        record = self.sides[side]
        if self.cpu is None or record.tree is None or record.wall < _MIN_CHECKED:
            return None
        return max(0.0, record.busy - record.cpu) / record.wall

    def check(self) -> None:
        """Refuse the measurement if co-runners weighed more on the reference's calls."""
        ref, stu = self.co_runner_share("reference"), self.co_runner_share("student")
        if ref is not None and stu is not None and ref - stu > SKEW:
            raise UnfairMeasurement(
                f"other processes took {ref:.0%} of the measuring core while the reference ran and {stu:.0%} "
                "while the student's code ran: the throughput could not be measured fairly")

    def reset(self) -> None:
        for record in self.sides.values():
            record.wall = record.cpu = record.busy = 0.0

    def close(self) -> None:
        """Let both sides run again."""
        for record in self.sides.values():
            if record.tree is not None:
                record.tree.resume()
        self._active = None
