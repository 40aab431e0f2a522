"""The processes of one worker, seen from the grader: find, stop, resume, pin, kill and time them.

A student's code may fork processes that outlive its call, or start threads that keep running.
Throughput is only fair if none of them runs while the other side is measured, so the grader
stops the whole of the side that is not measured (SIGSTOP cannot be caught, and a stopped
process cannot resume another), pins every thread of the measured side to one core, and kills
what the student's code left running once each call returns.

Which processes belong to a worker:
- jailed (L1/L2): every process of the worker's sandbox uid, which no other worker shares
  (read from its pids cgroup where there is one, else from /proc);
- otherwise (L0): every process in the worker's process group (a process that calls
  ``setsid`` escapes this, which the report's inactive layers say).
The process that serves requests is the one whose pid is 1 in its own pid namespace (jailed), or
the group leader (L0); it is never killed as a stray.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

__all__ = ["Tree", "cpu_busy"]

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_GONE = ("Z", "X", "x")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def _nspid_is_one(pid: int) -> bool:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("NSpid:"):
                return line.split()[-1] == "1"
    except OSError:
        pass
    return False


class Tree:
    """The processes of one worker (see the module docstring)."""

    def __init__(self, leader: int, uid: int | None = None, cgroup: Path | None = None):
        self.leader = leader
        """The worker's process (group leader) as the grader started it."""
        self.uid = uid
        self.cgroup = cgroup
        """A cgroup directory holding exactly this worker's processes (``cgroup.procs``)."""

    def members(self) -> list[int]:
        """Live pids of the worker (zombies left out)."""
        pids: list[int] = []
        if self.cgroup is not None and (self.cgroup / "cgroup.procs").exists():
            try:
                candidates = [int(p) for p in (self.cgroup / "cgroup.procs").read_text().split()]
            except OSError:
                candidates = []
        else:
            candidates = [int(e) for e in os.listdir("/proc") if e.isdigit()] if os.path.isdir("/proc") else []
        for pid in candidates:
            fields = _stat(pid)
            if fields is None or fields[0] in _GONE:
                continue
            if self.uid is not None:
                try:
                    if os.stat(f"/proc/{pid}").st_uid != self.uid:
                        continue
                except OSError:
                    continue
            elif int(fields[2]) != self.leader:
                continue
            pids.append(pid)
        return pids

    def server(self, members: list[int] | None = None) -> int | None:
        """The pid that serves the worker's requests."""
        members = self.members() if members is None else members
        if self.uid is None:
            return self.leader if self.leader in members else None
        return next((p for p in members if _nspid_is_one(p)), None)

    def strays(self) -> list[int]:
        """Processes the student's code started that are still alive."""
        members = self.members()
        server = self.server(members)
        return [p for p in members if p != server]

    def _signal_all(self, pids: list[int], sig: int) -> None:
        for pid in pids:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def stop(self, timeout: float = 2.0) -> bool:
        """SIGSTOP every process until all of them are stopped at once (a running one could
        resume a stopped sibling); False if that did not happen within ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            members = self.members()
            self._signal_all(members, signal.SIGSTOP)
            time.sleep(0.001)
            running = [p for p in members if (_stat(p) or ["Z"])[0] not in ("T", "t", *_GONE)]
            if not running and set(self.members()) <= set(members):
                return True
            if time.monotonic() > deadline:
                return False

    def resume(self) -> None:
        self._signal_all(self.members(), signal.SIGCONT)

    def kill_strays(self, timeout: float = 2.0) -> int:
        """SIGKILL the processes the student's code left running (until none is left); how many."""
        deadline, killed = time.monotonic() + timeout, set()
        while True:
            strays = self.strays()
            if not strays or time.monotonic() > deadline:
                return len(killed)
            self._signal_all(strays, signal.SIGKILL)
            killed.update(strays)
            time.sleep(0.001)

    def pin(self, cpus: set[int]) -> bool:
        """Every thread of every process on ``cpus``; False where that is not possible."""
        if not hasattr(os, "sched_setaffinity"):
            return False
        done = False
        for pid in self.members():
            try:
                tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
            except OSError:
                tids = [pid]
            for tid in tids:
                try:
                    os.sched_setaffinity(tid, cpus)
                    done = True
                except OSError:
                    pass
        return done

    def cpu_seconds(self) -> float:
        """CPU time used so far by the worker's live processes (all their threads) and the
        children they have reaped."""
        total = 0
        for pid in self.members():
            fields = _stat(pid)
            if fields is not None:
                total += sum(int(x) for x in fields[11:15])
        return total / _TICK


def cpu_busy(cpu: int) -> float | None:
    """Seconds core ``cpu`` has spent not idle since boot (from /proc/stat), None where unknown."""
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith(f"cpu{cpu} "):
                values = [int(x) for x in line.split()[1:]]
                idle = values[3] + (values[4] if len(values) > 4 else 0)
                return (sum(values[:8]) - idle) / _TICK
    except (OSError, ValueError):
        pass
    return None
