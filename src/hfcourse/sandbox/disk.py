"""A bounded scratch: each student worker's scratch directory is a tmpfs of its own size.

``RLIMIT_FSIZE`` bounds one file, not a directory: six files just under it fill a disk. On Linux
as root the scratch directory becomes a tmpfs mount (``size=`` from course.toml's ``scratch_mb``),
so a submission that writes more gets ENOSPC, which the worker reports as ``DISK`` for that test;
the host's disk never sees it. Its pages count against the worker's memory cgroup. The mount is
removed (lazily, ``MNT_DETACH``) when the worker closes; a grading killed before that leaves a
mount that :func:`hfcourse.paths.sweep_scratch` removes with the directory.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

__all__ = ["supported", "problem", "mount_scratch", "resize", "unmount"]

_MS_NOSUID, _MS_NODEV, _MS_REMOUNT = 2, 4, 32
_MNT_DETACH = 2
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def problem() -> str | None:
    """Why a scratch cannot be capped here (None: it can)."""
    if _libc is None:
        return f"needs Linux tmpfs mounts (this is {sys.platform})"
    if os.geteuid() != 0:
        return "needs root to mount a tmpfs per worker (grading runs as a normal user)"
    if os.environ.get("HFCOURSE_SANDBOX", "").upper() == "L0":
        return "turned off by HFCOURSE_SANDBOX=L0"
    return None


def supported() -> bool:
    return problem() is None


def _mount(target: Path, flags: int, options: str) -> None:
    if _libc.mount(b"tmpfs", str(target).encode(), b"tmpfs", flags, options.encode()) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount tmpfs on {target}: {os.strerror(err)}")


def mount_scratch(path: Path, size_bytes: int) -> None:
    """Mount a tmpfs of ``size_bytes`` on the (empty, root-made) directory ``path``."""
    _mount(path, _MS_NOSUID | _MS_NODEV, f"size={size_bytes},mode=0755")


def resize(path: Path, size_bytes: int) -> None:
    """A new size for a mounted scratch (what it holds stays, if it fits)."""
    _mount(path, _MS_REMOUNT | _MS_NOSUID | _MS_NODEV, f"size={size_bytes}")


def unmount(path: Path) -> bool:
    """Detach the scratch's tmpfs; False if nothing was mounted there."""
    if _libc is None or not os.path.ismount(path):
        return False
    return _libc.umount2(str(path).encode(), _MNT_DETACH) == 0
