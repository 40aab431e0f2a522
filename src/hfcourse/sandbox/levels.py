"""Which isolation layers this machine can give a worker, probed once per process.

L0 everywhere: a worker subprocess (``python -I``) in its own process group, killed as a
group on timeout; rlimits; a scrubbed offline environment; a private scratch directory;
data-only results. L1 on Linux as root with ``unshare``: own mount, network, pid, ipc and
uts namespaces, an allow-listed read-only filesystem without the graders and solutions,
private /tmp and /dev/shm, and an unprivileged uid with no groups (see ``jail``).
``HFCOURSE_SANDBOX=L0`` turns L1 off (for debugging only).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

__all__ = ["Plan", "plan", "sandbox_uid"]

L0_LAYERS = [
    "worker subprocess (python -I) in its own process group, SIGKILL of the group on timeout",
    "rlimits: address space, file size, open files, no core dumps",
    "scrubbed offline environment, 1 thread",
    "private scratch directory",
    "data-only results (JSON + safetensors), decoded with size and type checks",
]
L1_LAYERS = [
    "own mount, network, pid, ipc and uts namespaces",
    "allow-listed read-only filesystem: no graders, solutions, git history or other submissions",
    "private /tmp and /dev/shm (64 MiB each)",
    "unprivileged uid, no groups, no_new_privs, process count limited",
]


@dataclass(frozen=True)
class Plan:
    level: str
    layers: list[str] = field(default_factory=list)
    inactive: dict[str, str] = field(default_factory=dict)
    seccomp: bool = False
    cgroups: bool = False

    @property
    def jail(self) -> bool:
        return self.level in ("L1", "L2")

    def facts(self) -> dict:
        return {"level": self.level, "layers": list(self.layers), "inactive": dict(self.inactive)}


def _l1_problem() -> str | None:
    if os.environ.get("HFCOURSE_SANDBOX", "").upper() == "L0":
        return "turned off by HFCOURSE_SANDBOX=L0"
    if not sys.platform.startswith("linux"):
        return f"needs Linux namespaces (this is {sys.platform})"
    if os.geteuid() != 0:
        return "needs root to create namespaces and switch to the sandbox uid (grading runs as a normal user)"
    if shutil.which("unshare") is None:
        return "the unshare command (util-linux) is not installed"
    probe = ["unshare", "--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child", "--mount-proc", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare failed: {exc}"
    if done.returncode != 0:
        return f"unshare is not permitted here: {done.stderr.strip()[:200]}"
    return None


def _cgroups_problem() -> str | None:
    from hfcourse.sandbox import confine

    dirs = confine.cgroup_dirs(f"hfcourse-probe-{os.getpid()}")
    if not dirs:
        return "no pids or memory cgroup controller is mounted under /sys/fs/cgroup"
    try:
        for path in dirs.values():
            path.mkdir()
            path.rmdir()
    except OSError as exc:
        return f"cgroups are not writable here: {exc}"
    return None


@functools.cache
def plan() -> Plan:
    from hfcourse.sandbox import confine

    problem = _l1_problem()
    if problem is not None:
        return Plan("L0", list(L0_LAYERS), {"L1": problem, "L2": "needs L1"})
    layers, inactive = [*L0_LAYERS, *L1_LAYERS], {}
    seccomp = confine.seccomp_supported()
    if seccomp:
        layers.append("seccomp: " + ", ".join(confine.DENIED) + " denied")
    else:
        inactive["L2 seccomp"] = "the filter is written for Linux on x86_64 and aarch64 only"
    cg_problem = _cgroups_problem()
    if cg_problem is None:
        layers.append("cgroup limits on processes and resident memory")
    else:
        inactive["L2 cgroups"] = cg_problem
    level = "L2" if seccomp and cg_problem is None else "L1"
    return Plan(level, layers, inactive, seccomp=seccomp, cgroups=cg_problem is None)


_next = 0


def sandbox_uid() -> int:
    """A uid no account uses, different for each worker this process starts."""
    global _next
    _next += 1
    return 200_000 + (os.getpid() % 4096) * 64 + _next % 64
