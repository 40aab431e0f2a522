"""Where the course lives and where built artifacts go."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

__all__ = ["course_root", "cache_dir", "scratch", "scratch_dir", "sweep_scratch"]

_MARKER = "course.toml"


def course_root() -> Path:
    """The directory holding ``course.toml``.

    Looked up in this order: ``$HFCOURSE_ROOT``, the current directory and its
    parents, then the checkout this package was installed from.
    """
    env = os.environ.get("HFCOURSE_ROOT")
    if env:
        root = Path(env).resolve()
        if not (root / _MARKER).is_file():
            raise FileNotFoundError(
                f"HFCOURSE_ROOT={env} has no {_MARKER}: point it at the course checkout"
            )
        return root
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / _MARKER).is_file():
            return candidate
    installed = Path(__file__).resolve().parents[2]
    if (installed / _MARKER).is_file():
        return installed
    raise FileNotFoundError(
        f"no {_MARKER} found from {here} upwards: run hfcourse inside the course checkout "
        "or set HFCOURSE_ROOT"
    )


def cache_dir() -> Path:
    """Root of the built-artifact cache (``$HFCOURSE_CACHE``, else ``~/.cache/hfcourse``)."""
    env = os.environ.get("HFCOURSE_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hfcourse"
    return base.resolve()


# A scratch directory's name carries its owner (pid and start time): hfcourse-LABEL-pPID.TICKS-RANDOM.
_SCRATCH = re.compile(r"^hfcourse-[a-z0-9_]+-p(\d+)\.(\d+)-")


def _start_ticks(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (0 where there is no /proc);
    None when no such process runs."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0
    except OSError:
        return 0
    return int(stat[stat.rindex(")") + 2:].split()[19])


def scratch_dir(label: str) -> Path:
    """A new private temporary directory named after ``label`` and this process. The caller
    removes it when done; if this process is killed first, :func:`sweep_scratch` removes it
    later."""
    pid, label = os.getpid(), re.sub(r"[^a-z0-9_]", "_", label.lower())
    return Path(tempfile.mkdtemp(prefix=f"hfcourse-{label}-p{pid}.{_start_ticks(pid) or 0}-"))


@contextlib.contextmanager
def scratch(label: str):
    """A :func:`scratch_dir` for the ``with`` block, removed at its end."""
    path = scratch_dir(label)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sweep_scratch() -> list[Path]:
    """Remove the scratch directories (:func:`scratch_dir`) whose owning process is gone, such
    as those of a grading killed with SIGKILL; returns what was removed. Directories of
    running processes, and any other file in the temporary directory, are left alone."""
    removed = []
    for path in Path(tempfile.gettempdir()).glob("hfcourse-*"):
        m = _SCRATCH.match(path.name)
        if not m or path.is_symlink() or not path.is_dir():
            continue
        pid, ticks = int(m.group(1)), int(m.group(2))
        now = _start_ticks(pid)
        if now is None or (ticks and now and now != ticks):
            if os.path.ismount(path):  # a worker's capped scratch (hfcourse.sandbox.disk)
                from hfcourse.sandbox import disk

                disk.unmount(path)
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed
