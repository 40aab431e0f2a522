"""Level-2 isolation, applied by the jail where the machine allows it: a seccomp filter
that denies the system calls a worker never needs (ptrace, reading other processes' memory,
mounting, new namespaces by unshare, setns or clone flags, io_uring, kernel keyrings, bpf), and
cgroup limits on processes and resident memory (cgroup v1 controllers or a v2 hierarchy).

clone3 passes its flags in a struct that seccomp cannot read, so it fails with ENOSYS: glibc then
falls back to clone (threads, fork, posix_spawn), whose flags the filter checks."""

from __future__ import annotations

import ctypes
import os
import platform
import struct
from pathlib import Path

__all__ = ["DENIED", "seccomp_supported", "install_seccomp", "cgroup_dirs", "join_cgroups", "remove_cgroups",
           "oom_kills", "memory_peak"]

_X86_64 = {"ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "perf_event_open": 298, "bpf": 321,
           "keyctl": 250, "add_key": 248, "request_key": 249, "unshare": 272, "setns": 308, "mount": 165,
           "umount2": 166, "pivot_root": 155, "chroot": 161, "kexec_load": 246, "init_module": 175,
           "finit_module": 313, "delete_module": 176, "swapon": 167, "reboot": 169}
_AARCH64 = {"ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "perf_event_open": 241, "bpf": 280,
            "keyctl": 219, "add_key": 217, "request_key": 218, "unshare": 97, "setns": 268, "mount": 40,
            "umount2": 39, "pivot_root": 41, "chroot": 51, "kexec_load": 104, "init_module": 105,
            "finit_module": 273, "delete_module": 106, "swapon": 224, "reboot": 142}
_COMMON = {"io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427, "open_tree": 428, "move_mount": 429,
           "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "mount_setattr": 442}
"""Numbered alike on both architectures: io_uring (its requests bypass the filter) and the new mount API."""
_CLONE = {"x86_64": 56, "aarch64": 220}
_CLONE3 = 435
_ARCH = {"x86_64": (0xC000003E, {**_X86_64, **_COMMON}), "aarch64": (0xC00000B7, {**_AARCH64, **_COMMON})}
CLONE_NEW = 0x7E020000
"""CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET (CLONE_NEWTIME, 0x80, is
clone's exit signal byte and only a flag for clone3 and unshare)."""
DENIED = (*_X86_64, *_COMMON, "clone with CLONE_NEW* flags", "clone3 (ENOSYS)")

_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2
_LD_ABS_W, _JEQ_K, _JGE_K, _JSET_K, _RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
_RET_ALLOW, _RET_KILL, _RET_EPERM, _RET_ENOSYS = 0x7FFF0000, 0x80000000, 0x00050000 | 1, 0x00050000 | 38
_ARG0 = 16
"""Offset of the low 32 bits of the first argument in struct seccomp_data (little-endian)."""


def seccomp_supported() -> bool:
    return platform.system() == "Linux" and platform.machine() in _ARCH


def _program() -> bytes:
    arch, numbers = _ARCH[platform.machine()]
    ins = [(_LD_ABS_W, 0, 0, 4), (_JEQ_K, 1, 0, arch), (_RET_K, 0, 0, _RET_KILL), (_LD_ABS_W, 0, 0, 0),
           (_JGE_K, 0, 1, 0x40000000), (_RET_K, 0, 0, _RET_KILL)]
    for nr in numbers.values():
        ins += [(_JEQ_K, 0, 1, nr), (_RET_K, 0, 0, _RET_EPERM)]
    ins += [(_JEQ_K, 0, 1, _CLONE3), (_RET_K, 0, 0, _RET_ENOSYS),
            # clone: EPERM when its flags ask for a namespace, else (and for every other call) allow
            (_JEQ_K, 0, 3, _CLONE[platform.machine()]), (_LD_ABS_W, 0, 0, _ARG0), (_JSET_K, 0, 1, CLONE_NEW),
            (_RET_K, 0, 0, _RET_EPERM), (_RET_K, 0, 0, _RET_ALLOW)]
    return b"".join(struct.pack("HBBI", *i) for i in ins)


def install_seccomp() -> None:
    """Deny ``DENIED`` with EPERM (clone3 with ENOSYS) for this process and its children (needs
    no_new_privs)."""
    code = _program()
    buf = ctypes.create_string_buffer(code)

    class _Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = _Prog(len(code) // 8, ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")


_ROOT = Path("/sys/fs/cgroup")


def cgroup_dirs(name: str) -> dict[str, Path]:
    """Where a worker's cgroups go: v1 ``pids`` and ``memory`` controllers, or one v2 group."""
    if (_ROOT / "cgroup.controllers").exists():
        return {"v2": _ROOT / name}
    return {c: _ROOT / c / name for c in ("pids", "memory") if (_ROOT / c / "cgroup.procs").exists()}


def join_cgroups(name: str, pid: int, *, max_pids: int, max_bytes: int) -> list[str]:
    """Create the cgroups, set their limits and move ``pid`` in; returns what was applied."""
    applied = []
    for kind, path in cgroup_dirs(name).items():
        path.mkdir(exist_ok=True)
        limits = {"pids": {"pids.max": max_pids}, "memory": {"memory.limit_in_bytes": max_bytes},
                  "v2": {"pids.max": max_pids, "memory.max": max_bytes}}[kind]
        for file, value in limits.items():
            if (path / file).exists():
                (path / file).write_text(str(value))
                applied.append(f"{file}={value}")
        (path / "cgroup.procs").write_text(str(pid))
    return applied


def remove_cgroups(name: str) -> bool:
    """Remove the (empty) cgroups of a dead worker; False while a process is still leaving."""
    for path in cgroup_dirs(name).values():
        try:
            os.rmdir(path)
        except FileNotFoundError:
            pass
        except OSError:
            return False
    return True


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _fields(path: Path) -> dict[str, int]:
    try:
        pairs = (line.split() for line in path.read_text().splitlines())
        return {p[0]: int(p[1]) for p in pairs if len(p) == 2 and p[1].isdigit()}
    except OSError:
        return {}


def oom_kills(name: str) -> int:
    """How many processes of the cgroup ``name`` the kernel killed for reaching its memory limit
    (v1 ``memory.oom_control`` ``oom_kill``, v2 ``memory.events`` ``oom_kill``). Where the kernel
    keeps no such count (v1 before Linux 4.13), a peak usage at the limit with failed charges counts
    as one."""
    for kind, path in cgroup_dirs(name).items():
        if kind == "v2":
            return _fields(path / "memory.events").get("oom_kill", 0)
        if kind == "memory":
            control = _fields(path / "memory.oom_control")
            if "oom_kill" in control:
                return control["oom_kill"]
            peak, limit = memory_peak(name)
            failed = _read_int(path / "memory.failcnt") or 0
            return int(bool(failed and peak and limit and peak >= limit - (1 << 20)))
    return 0


def memory_peak(name: str) -> tuple[int | None, int | None]:
    """The cgroup's peak memory use and its limit, in bytes (None where unknown)."""
    for kind, path in cgroup_dirs(name).items():
        if kind == "v2":
            return _read_int(path / "memory.peak"), _read_int(path / "memory.max")
        if kind == "memory":
            return _read_int(path / "memory.max_usage_in_bytes"), _read_int(path / "memory.limit_in_bytes")
    return None, None
