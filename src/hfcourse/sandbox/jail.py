"""Level-1 isolation: run as root inside fresh mount/net/pid/ipc/uts namespaces (made by
``unshare``), build an allow-listed filesystem, drop to an unprivileged uid, exec the worker.

    unshare --mount --net --pid --ipc --uts --fork --kill-child --mount-proc \
        python -I -m hfcourse.sandbox.jail SPEC_JSON -- WORKER_ARGV...

The new root is a small tmpfs holding read-only binds of the system directories, the Python
installation, the hfcourse package, the fixture cache and the graded module's directory, a
private /tmp and /dev/shm of bounded size, and the worker's scratch directory (writable).
Everything else (the course's graders and solutions, its git history, other submissions,
root's home) is simply not there. Then ``chroot``, clear groups, set the uid, set
no_new_privs, and exec.

A worker forked by the zygote is jailed in place by ``enter`` (the same steps, without exec).
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import sys
from pathlib import Path

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG = 38, 1
MNT_DETACH = 2
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x4000000, 0x8000000, 0x20000000, 0x40000000
SYSTEM = ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc")

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    if _libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                   data.encode() if data else None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _bind(source: str, target: Path, *, writable: bool = False, device: bool = False) -> None:
    src = Path(source)
    if src.is_symlink():
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_symlink():
            target.symlink_to(os.readlink(src))
        return
    if src.is_dir():
        target.mkdir(parents=True, exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch(exist_ok=True)
    _mount(str(src), str(target), None, MS_BIND | MS_REC)
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | (0 if device else MS_NODEV) | (0 if writable else MS_RDONLY)
    _mount("none", str(target), None, flags)


def _tree(source: str, target: Path, empty: Path) -> None:
    """A read-only tree, mounted as an overlay whose layers are named by descriptor: a bind mount
    shows in /proc/self/mountinfo the tree's path within its own file system (in a container, a
    path of the host), an overlay shows only "/proc/self/fd/N". A bind where overlays fail."""
    src = Path(source)
    if src.is_symlink() or not src.is_dir():
        return _bind(source, target)
    target.mkdir(parents=True, exist_ok=True)
    lower = os.open(source, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    blank = os.open(empty, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _mount("overlay", str(target), "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV,
               f"lowerdir=/proc/self/fd/{lower}:/proc/self/fd/{blank}")
    except OSError:
        _bind(source, target)
    finally:
        os.close(lower)
        os.close(blank)


def _minimal(paths: list[str]) -> list[str]:
    """Drop paths that lie inside another path of the list."""
    out: list[str] = []
    for p in sorted({str(Path(p)) for p in paths if p and os.path.lexists(p)}, key=len):
        if not any(p == q or p.startswith(q.rstrip("/") + "/") for q in out):
            out.append(p)
    return out


def build_root(spec: dict) -> Path:
    """Assemble the new root under a tmpfs; returns its path (not yet entered)."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    new = Path(spec.get("mountpoint", "/mnt"))
    _mount("tmpfs", str(new), "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755")
    for path in SYSTEM:
        if os.path.lexists(path):
            _bind(path, new / path.lstrip("/"))
    (new / "tmp").mkdir()
    _mount("tmpfs", str(new / "tmp"), "tmpfs", MS_NOSUID | MS_NODEV, f"size={spec.get('tmp_size', '64m')},mode=1777")
    dev = new / "dev"
    dev.mkdir()
    _mount("tmpfs", str(dev), "tmpfs", MS_NOSUID, "size=1m,mode=0755")
    for node in ("null", "zero", "full", "random", "urandom", "tty"):
        if os.path.exists(f"/dev/{node}"):
            _bind(f"/dev/{node}", dev / node, writable=True, device=True)
    (dev / "shm").mkdir()
    _mount("tmpfs", str(dev / "shm"), "tmpfs", MS_NOSUID | MS_NODEV, f"size={spec.get('shm_size', '64m')},mode=1777")
    (new / "proc").mkdir()
    _mount("proc", str(new / "proc"), "proc", MS_NOSUID | MS_NODEV)
    empty = new / ".empty"  # the overlays' second layer: an empty tmpfs, detached once they hold it
    empty.mkdir()
    _mount("tmpfs", str(empty), "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k,mode=0555")
    for path in _minimal(spec.get("read", [])):
        if not any(path == s or path.startswith(s + "/") for s in SYSTEM):
            _tree(path, new / path.lstrip("/"), empty)
    if _libc.umount2(str(empty).encode(), MNT_DETACH) == 0:
        empty.rmdir()
    for path in spec.get("write", []):
        _bind(path, new / path.lstrip("/"), writable=True)
    return new


def loopback_up() -> None:
    """A new network namespace has only ``lo``, and it starts down: bring it up so that
    stand-in servers inside the worker are reachable on 127.0.0.1."""
    import fcntl
    import socket
    import struct

    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        flags = struct.unpack("16sh", fcntl.ioctl(sock, siocgifflags, struct.pack("16sh", b"lo", 0)))[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sh", b"lo", flags | iff_up))


def drop_privileges(uid: int, nproc: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def _confine(spec: dict) -> None:
    """As pid 1 of fresh namespaces: loopback up, the allow-listed root, the sandbox uid, seccomp."""
    from hfcourse.sandbox import confine

    loopback_up()
    new = build_root(spec)
    os.chroot(new)
    os.chdir(spec["cwd"])
    drop_privileges(int(spec["uid"]), int(spec.get("nproc", 256)))
    if spec.get("seccomp"):
        confine.install_seccomp()


def _join_cgroups(spec: dict) -> None:
    from hfcourse.sandbox import confine

    if spec.get("cgroup"):
        confine.join_cgroups(spec["cgroup"], os.getpid(), max_pids=int(spec.get("nproc", 256)) + 64,
                             max_bytes=int(spec["memory_bytes"]))


def enter(spec: dict, keep: tuple[int, ...] = ()) -> None:
    """Jail a forked worker in place (what ``unshare`` + ``main`` do for an exec'd one): join the
    cgroups, unshare the namespaces and fork into the new pid namespace. The outer process only
    waits and mirrors the inner one's exit; the inner one returns confined."""
    _join_cgroups(spec)
    if _libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare: {os.strerror(err)}")
    pid = os.fork()
    if pid == 0:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        _confine(spec)
        return
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    for fd in keep:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    _mirror(status)


def _mirror(status: int) -> None:
    """Leave as the inner process left: its exit code, or killed by its signal. SIGKILL (the
    memory cgroup's OOM killer, a timeout) has no handler to reset: setting one raised, and the
    outer process used to exit with 70 instead, a CRASH that hid the memory kill."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            try:
                signal.signal(sig, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
            except (OSError, ValueError):
                pass
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)  # a signal whose default action is not to end the process
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)


def main(argv: list[str]) -> None:
    spec = json.loads(argv[0])
    if argv[1] != "--":
        raise SystemExit("usage: jail SPEC -- ARGV")
    worker = argv[2:]
    _join_cgroups(spec)
    _confine(spec)
    os.execv(worker[0], worker)


if __name__ == "__main__":
    main(sys.argv[1:])
