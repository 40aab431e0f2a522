"""The one way trusted code touches a worker's scratch directory.

Everything in a scratch directory may have been made by student code: a file may be a link to
``/etc/shadow``, a directory the grader is about to create may already exist as a link to
``/root``, a "saved model" may be a FIFO that blocks the reader. The grader runs as root, so a
path it follows there can reach any file on the machine. This module walks from the scratch
directory's own file descriptor one component at a time, with ``O_NOFOLLOW``, checks the type of
what it opened (on the descriptor, not on the name, so a swap between check and use changes
nothing), never leaves the scratch, and bounds what it reads.

- :func:`ensure_dir` makes (or checks) a directory inside the scratch, owned by the worker.
- :func:`copy_out` copies what student code left at a path into a directory only the grader can
  read, refusing links, devices, FIFOs and sockets; graders read that copy, never the scratch.
- :func:`copy_in` and :func:`write_file` put trusted files into the scratch for the worker.

Anything refused raises :class:`Refused`, which says what was found and what to do instead.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["Refused", "Budget", "ensure_dir", "copy_out", "copy_in", "write_file", "parts"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_MAX_DEPTH = 32


class Refused(Exception):
    """Something in the scratch directory that trusted code will not follow or read."""

    def __init__(self, message: str, category: str = "REJECTED"):
        super().__init__(message)
        self.message = message
        self.category = category


@dataclass
class Budget:
    """How much :func:`copy_out` may copy."""

    bytes: int = 128 << 20
    files: int = 20_000


def _blame(exc: OSError, root: Path, grader_side: Path | None, shown: str) -> Exception:
    """An OSError met in the scratch is the student's doing (it filled the scratch, took the
    permissions away, removed what was being read), unless it concerns the scratch directory
    itself or ``grader_side`` (the grader's own copy or source): those are re-raised as they are."""
    mine = [str(root)] + ([str(grader_side)] if grader_side is not None else [])
    if exc.filename is not None and any(str(exc.filename) == m or str(exc.filename).startswith(m + "/") for m in mine):
        return exc
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return Refused(f"the scratch directory is full ({os.strerror(exc.errno)}): write less into it", "DISK")
    return Refused(f"{shown or 'the scratch directory'} could not be used: {os.strerror(exc.errno or 0)}")


def _guarded(root: Path, grader_side: Path | None, relative: str | PurePosixPath, fn, *args):
    """``fn(*args)``, with an OSError in the scratch raised as :class:`Refused` (see :func:`_blame`)."""
    try:
        return fn(*args)
    except OSError as exc:
        raise _blame(exc, root, grader_side, str(relative)) from None


def parts(relative: str | PurePosixPath) -> list[str]:
    """The components of a path relative to the scratch directory; absolute paths, ``..`` and
    empty names are refused."""
    text = str(relative)
    if text.startswith("/") or "\x00" in text:
        raise Refused(f"{text!r} is not a path inside the scratch directory", "BAD_OUTPUT")
    out = [p for p in PurePosixPath(text).parts if p not in ("", ".")]
    if any(p == ".." for p in out):
        raise Refused(f"{text!r} leaves the scratch directory", "BAD_OUTPUT")
    return out


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a file" if stat.S_ISREG(mode) else "a special file"


def _refuse_kind(shown: str, dir_fd: int, name: str, wanted: str) -> Refused:
    try:
        found = _kind(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        found = "not readable"
    advice = {"directory": "save real files into the directory you were given",
              "file": "write a regular file, not a link or a special file"}[wanted]
    return Refused(f"{shown} is {found}, not a {wanted}: {advice}")


def _open_root(root: Path) -> int:
    return os.open(root, _DIR_FLAGS)


def _open_child_dir(dir_fd: int, name: str, shown: str) -> int:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EACCES):
            raise _refuse_kind(shown, dir_fd, name, "directory") from None
        raise


def ensure_dir(root: Path, relative: str | PurePosixPath, owner: int | None = None, mode: int = 0o755) -> Path:
    """Like :func:`_ensure_dir`; an OSError in the scratch is raised as :class:`Refused`."""
    return _guarded(root, None, relative, _ensure_dir, root, relative, owner, mode)


def _ensure_dir(root: Path, relative: str | PurePosixPath, owner: int | None = None, mode: int = 0o755) -> Path:
    """``root/relative`` as a real directory inside ``root``: missing components are made and
    given to ``owner`` (the worker's uid, when it has one); a component that exists as anything
    but a directory (a link, above all) is refused."""
    names = parts(relative)
    fd = _open_root(root)
    try:
        for i, name in enumerate(names):
            shown = "/".join(names[: i + 1])
            try:
                os.mkdir(name, mode, dir_fd=fd)
                made = True
            except FileExistsError:
                made = False
            child = _open_child_dir(fd, name, shown)
            os.close(fd)
            fd = child
            if made and owner is not None:
                os.fchown(fd, owner, owner)
    finally:
        os.close(fd)
    return root.joinpath(*names)


def _copy_file(src_fd: int, dest: Path, budget: Budget, shown: str) -> None:
    info = os.fstat(src_fd)
    if not stat.S_ISREG(info.st_mode):
        raise Refused(f"{shown} is {_kind(info.st_mode)}, not a file: write a regular file, not a link or a special file")
    budget.files -= 1
    if budget.files < 0:
        raise Refused("too many files were saved to read them all", "RESULT_TOO_BIG")
    with open(dest, "wb") as out:
        while True:
            chunk = os.read(src_fd, 1 << 20)
            if not chunk:
                break
            budget.bytes -= len(chunk)
            if budget.bytes < 0:
                raise Refused("the saved files are too large to read", "RESULT_TOO_BIG")
            out.write(chunk)


def _copy_named_file(dir_fd: int, name: str, dest: Path, budget: Budget, shown: str) -> None:
    """Copy the regular file ``name`` of the directory ``dir_fd`` (opened without following a link)."""
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refuse_kind(shown, dir_fd, name, "file") from None
        raise
    try:
        _copy_file(fd, dest, budget, shown)
    finally:
        os.close(fd)


def _copy_dir(dir_fd: int, dest: Path, budget: Budget, shown: str, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise Refused(f"{shown} is nested more than {_MAX_DEPTH} directories deep", "RESULT_TOO_BIG")
    dest.mkdir(mode=0o700, exist_ok=True)
    with os.scandir(dir_fd) as entries:
        names = sorted(e.name for e in entries)
    for name in names:
        inner = f"{shown}/{name}" if shown else name
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
        if stat.S_ISDIR(mode):
            child = _open_child_dir(dir_fd, name, inner)
            try:
                _copy_dir(child, dest / name, budget, inner, depth + 1)
            finally:
                os.close(child)
        elif stat.S_ISREG(mode):
            _copy_named_file(dir_fd, name, dest / name, budget, inner)
        else:
            raise Refused(f"{inner} is {_kind(mode)}: save real files into the directory you were given")


def copy_out(root: Path, relative: str | PurePosixPath, dest: Path, budget: Budget | None = None) -> Path:
    """Like :func:`_copy_out`; an OSError in the scratch is raised as :class:`Refused`."""
    return _guarded(root, dest, relative, _copy_out, root, relative, dest, budget)


def _copy_out(root: Path, relative: str | PurePosixPath, dest: Path, budget: Budget | None = None) -> Path:
    """Copy what is at ``root/relative`` (a file or a directory tree) to ``dest``, which must not
    exist and lies where student code cannot reach. A path that does not exist gives an empty
    directory at ``dest`` (so "nothing was saved" reads as an empty folder)."""
    budget = budget or Budget()
    names = parts(relative)
    fd = _open_root(root)
    try:
        for i, name in enumerate(names):
            shown = "/".join(names[: i + 1])
            try:
                mode = os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode
            except FileNotFoundError:
                dest.mkdir(mode=0o700)
                return dest
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise Refused(f"{shown} is {_kind(mode)}: save real files into the directory you were given")
            if i == len(names) - 1 and stat.S_ISREG(mode):
                _copy_named_file(fd, name, dest, budget, shown)
                return dest
            child = _open_child_dir(fd, name, shown)
            os.close(fd)
            fd = child
        _copy_dir(fd, dest, budget, "/".join(names), 0)
    finally:
        os.close(fd)
    return dest


def write_file(root: Path, relative: str | PurePosixPath, data: bytes, owner: int | None = None) -> Path:
    """Like :func:`_write_file`; an OSError in the scratch is raised as :class:`Refused`."""
    return _guarded(root, None, relative, _write_file, root, relative, data, owner)


def _write_file(root: Path, relative: str | PurePosixPath, data: bytes, owner: int | None = None) -> Path:
    """Write a trusted file into the scratch (its directory made by :func:`ensure_dir`); a file
    already there is replaced, a link or anything else in its place is refused."""
    names = parts(relative)
    if not names:
        raise Refused("a file needs a name", "BAD_OUTPUT")
    parent = _ensure_dir(root, "/".join(names[:-1]), owner) if len(names) > 1 else root
    fd = _open_root(parent)
    try:
        try:
            mode = os.stat(names[-1], dir_fd=fd, follow_symlinks=False).st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None:
            if not stat.S_ISREG(mode):
                raise _refuse_kind("/".join(names), fd, names[-1], "file")
            os.unlink(names[-1], dir_fd=fd)
        out = os.open(names[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=fd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(out, view):]
            if owner is not None:
                os.fchown(out, owner, owner)
        finally:
            os.close(out)
    finally:
        os.close(fd)
    return parent / names[-1]


def copy_in(source: Path, root: Path, relative: str | PurePosixPath, owner: int | None = None) -> Path:
    """Copy a trusted file or directory tree (the grader's own, e.g. an edited data set) into the
    scratch at ``relative``, owned by ``owner``; directories are left writable for it."""
    return _guarded(root, source, relative, _copy_in, source, root, relative, owner)


def _copy_in(source: Path, root: Path, relative: str | PurePosixPath, owner: int | None = None) -> Path:
    names = parts(relative)
    if source.is_file():
        return _write_file(root, "/".join(names), source.read_bytes(), owner)
    target = _ensure_dir(root, "/".join(names), owner)
    for path in sorted(source.rglob("*")):
        inner = "/".join([*names, *path.relative_to(source).parts])
        if path.is_symlink():
            continue
        if path.is_dir():
            _ensure_dir(root, inner, owner)
        elif path.is_file():
            _write_file(root, inner, path.read_bytes(), owner)
    return target
