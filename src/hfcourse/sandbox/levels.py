"""Which isolation layers this machine can give a worker, probed once per process.

L0 everywhere: a worker subprocess (``python -I``) in its own process group, killed as a
group on timeout; rlimits; a scrubbed offline environment; a private scratch directory;
data-only results. L1 on Linux as root with ``unshare``: own mount, network, pid, ipc and
uts namespaces, an allow-listed read-only filesystem without the graders and solutions,
private /tmp and /dev/shm, and an unprivileged uid with no groups (see ``jail``).
``HFCOURSE_SANDBOX=L0`` turns L1 off (for debugging only).
"""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

__all__ = ["Plan", "plan", "sandbox_uid", "release_uid", "uid_holder", "uid_last_claimant"]

L0_LAYERS = [
    "worker subprocess (python -I) in its own process group, SIGKILL of the group on timeout",
    "rlimits: address space, file size, open files, no core dumps",
    "scrubbed offline environment, 1 thread",
    "private scratch directory",
    "data-only results (JSON + safetensors), decoded with size and type checks",
]
L1_LAYERS = [
    "own mount, network, pid, ipc and uts namespaces",
    "allow-listed read-only filesystem (overlays: mountinfo names no host path): no graders, solutions, git history or other submissions",
    "private /tmp and /dev/shm (64 MiB each)",
    "unprivileged uid unique among all gradings on the machine, no groups, no_new_privs, process count limited",
]


@dataclass(frozen=True)
class Plan:
    level: str
    layers: list[str] = field(default_factory=list)
    inactive: dict[str, str] = field(default_factory=dict)
    """Why each defence that is off is off, by name (as in ``active``)."""
    active: frozenset[str] = frozenset()
    """The defences that are on: "L1" and the names of ``L2_PROBES`` that passed."""

    @property
    def jail(self) -> bool:
        return "L1" in self.active

    @property
    def seccomp(self) -> bool:
        return "seccomp" in self.active

    @property
    def cgroups(self) -> bool:
        return "cgroups" in self.active

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
    try:
        os.close(_lock_dir())
    except OSError as exc:
        return f"sandbox uids cannot be claimed in {UID_LOCKS}: {exc}"
    return None


def _seccomp_problem() -> str | None:
    from hfcourse.sandbox import confine

    return None if confine.seccomp_supported() else "the filter is written for Linux on x86_64 and aarch64 only"


def _seccomp_layer() -> str:
    from hfcourse.sandbox import confine

    return "seccomp: " + ", ".join(confine.DENIED) + " denied"


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


L2_PROBES: dict[str, tuple[Callable[[], str | None], Callable[[], str]]] = {
    "seccomp": (_seccomp_problem, _seccomp_layer),
    "cgroups": (_cgroups_problem, lambda: "cgroup limits on processes and resident memory"),
    "scratch_cap": (lambda: _disk().problem(),
                    lambda: "each student worker's scratch directory is a tmpfs of its own size (course.toml scratch_mb)"),
    "whole_tree": (lambda: None,
                   lambda: "a student worker's processes are known by its uid: all of them are stopped while the reference "
                           "is timed, and those a call leaves running are killed when it returns"),
}
"""Defences on top of L1, probed in order: name -> (why it is off, or None; its line in the report)."""
L2_NEEDS = ("seccomp", "cgroups")


def _disk():
    from hfcourse.sandbox import disk

    return disk
"""What the level needs to be called L2."""


@functools.cache
def plan() -> Plan:
    problem = _l1_problem()
    if problem is not None:
        return Plan("L0", list(L0_LAYERS), {"L1": problem, **{name: "needs L1" for name in L2_PROBES}})
    layers, inactive, active = [*L0_LAYERS, *L1_LAYERS], {}, {"L1"}
    for name, (probe, layer) in L2_PROBES.items():
        why = probe()
        if why is None:
            active.add(name)
            layers.append(layer())
        else:
            inactive[name] = why
    level = "L2" if active.issuperset(L2_NEEDS) else "L1"
    return Plan(level, layers, inactive, frozenset(active))


UID_BASE, UID_COUNT = 200_000, 1 << 18
"""Sandbox uids: a range no account uses."""
UID_LOCKS = Path("/run/hfcourse/uids")
"""One lock file per claimed uid, in a root-owned directory only root can enter."""
_held: dict[int, int] = {}
_claiming = threading.Lock()


def _lock_dir() -> int:
    """A descriptor of ``UID_LOCKS``, made where missing; refused unless /run is root's and not
    writable by others, and the directories below it are real directories only we can enter."""
    fd = os.open("/run", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if st.st_uid != 0 or st.st_mode & 0o022:
            raise PermissionError("/run is writable by others: sandbox uids cannot be claimed safely")
        for part in UID_LOCKS.relative_to("/run").parts:
            try:
                os.mkdir(part, 0o700, dir_fd=fd)
            except FileExistsError:
                pass
            child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            os.close(fd)
            fd = child
            st = os.fstat(fd)
            if st.st_uid != os.geteuid() or st.st_mode & 0o077:
                raise PermissionError(f"{UID_LOCKS}: {part} is not a private directory of uid {os.geteuid()}")
        return fd
    except BaseException:
        os.close(fd)
        raise


def _live_uids() -> set[int]:
    uids = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                uids.add(entry.stat(follow_symlinks=False).st_uid)
            except OSError:
                pass
    return uids


def sandbox_uid() -> int:
    """Claim a sandbox uid that no other worker on this machine holds (a grading of any process,
    pid namespace or job) and that no process runs as: an exclusive ``flock`` on its file in
    ``UID_LOCKS``, held until ``release_uid`` or until this process (and any fork of it) ends."""
    with _claiming:
        live, folder = _live_uids(), _lock_dir()
        try:
            for uid in range(UID_BASE, UID_BASE + UID_COUNT):
                if uid in _held or uid in live:
                    continue
                fd = os.open(str(uid), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=folder)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                _held[uid] = fd
                return uid
        finally:
            os.close(folder)
    raise RuntimeError(f"all {UID_COUNT} sandbox uids are in use")


def release_uid(uid: int) -> None:
    """Give back a uid ``sandbox_uid`` claimed (its workers are dead); a uid not held is ignored."""
    with _claiming:
        fd = _held.pop(uid, None)
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _open_claim(uid: int) -> int | None:
    try:
        folder = _lock_dir()
    except OSError:
        return None
    try:
        return os.open(str(uid), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
    except FileNotFoundError:
        return None
    finally:
        os.close(folder)


def _claimant(fd: int) -> int:
    text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    return int(text) if text.isdigit() else -1


def uid_holder(uid: int) -> int | None:
    """The pid of the process that claimed ``uid`` while it still holds it; None when it is free."""
    fd = _open_claim(uid)
    if fd is None:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _claimant(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def uid_last_claimant(uid: int) -> int | None:
    """The pid of the process that claimed ``uid`` last, holding it still or not; None if none did."""
    fd = _open_claim(uid)
    if fd is None:
        return None
    try:
        return _claimant(fd)
    finally:
        os.close(fd)
