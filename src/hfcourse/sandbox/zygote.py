"""A fork server for workers: torch and transformers are imported once, workers are forked.

Importing torch and transformers costs every worker 2-5 s of CPU. The zygote pays it once per
grading run: it is started early (``python -I -m hfcourse.sandbox.zygote CTL_FD``) with a worker's
scrubbed environment, imports the course's preload modules, never runs a torch op (forking after
one can deadlock in OpenMP) and never sees grader, solution or student code. For each worker it
forks a child that takes the worker's pipes, process group, rlimits, environment and scratch
directory, enters the jail when asked (namespaces, allow-listed root, sandbox uid, seccomp, as
``jail`` does for an exec'd worker) and then serves requests like any worker.

The grader talks to the zygote over a Unix socket pair: ``spawn`` (pipes passed as file
descriptors, answered with the pid) and ``wait`` (exit status of a child; the zygote is its parent).
When the grader goes away the zygote kills its children and leaves.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path, PurePath
from typing import Any

from hfcourse import ipc

__all__ = ["Zygote", "ForkedProcess", "enabled", "provide", "take"]

_START_TIMEOUT = 180.0


def enabled() -> bool:
    """Workers are forked on Linux unless ``HFCOURSE_ZYGOTE=0``."""
    return sys.platform.startswith("linux") and os.environ.get("HFCOURSE_ZYGOTE", "1") != "0"


# -- the grader's side -----------------------------------------------------------------------

class ForkedProcess:
    """What ``subprocess.Popen`` offers the client, for a worker forked by the zygote."""

    def __init__(self, zygote: "Zygote", pid: int, stdout: Any):
        self.zygote, self.pid, self.stdout = zygote, pid, stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.zygote.wait(self.pid, 0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self.zygote.wait(self.pid, 3600.0 if timeout is None else timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0)
        return self.returncode


_provided: "Zygote | None" = None


def provide(zygote: "Zygote") -> None:
    """Hand a ready zygote to the next grading run of this process (see ``hfcourse.server``)."""
    global _provided
    _provided = zygote


def take() -> "Zygote | None":
    global _provided
    zygote, _provided = _provided, None
    return zygote


class _Child:
    """``Popen``'s wait and kill for a zygote this process forked itself."""

    def __init__(self, pid: int):
        self.pid = pid

    def wait(self, timeout: float | None = None) -> int | None:
        status = _wait(self.pid, 3600.0 if timeout is None else timeout)
        if status is None:
            raise subprocess.TimeoutExpired(f"zygote {self.pid}", timeout or 0)
        return status

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Zygote:
    """The grader's handle on one zygote process; started at construction, ready on first use."""

    @classmethod
    def fork_here(cls, origin: str) -> "Zygote":
        """A zygote forked from this process, which must hold nothing a worker may not see and
        must not have run a torch op; ``origin`` is the scratch path its import-time constants name."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            ours.close()
            try:
                os.setpgid(0, 0)
                _serve(theirs, origin)
            finally:
                os._exit(0)
        theirs.close()
        zygote = cls.__new__(cls)
        zygote.scratch, zygote.log, zygote.sock = None, None, ours
        zygote.proc, zygote._ready, zygote.failed = _Child(pid), True, None
        return zygote

    def __init__(self, preload: tuple[str, ...]):
        """Start ``python -I -m hfcourse.sandbox.zygote`` in a scratch directory of its own (removed
        by ``close``), with a worker's scrubbed environment."""
        from hfcourse.paths import cache_dir, scratch_dir
        from hfcourse.sandbox.limits import Limits, worker_env

        scratch = scratch_dir("zygote")
        env = worker_env(scratch, cache_dir(), Limits())
        self.scratch: Path | None = scratch
        self.log = scratch / "zygote.log"
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        argv = [sys.executable, "-I", "-m", "hfcourse.sandbox.zygote", str(theirs.fileno()),
                "--preload=" + ",".join(preload), "--scratch=" + str(scratch)]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         pass_fds=(theirs.fileno(),), cwd=scratch, env=env, start_new_session=True)
        theirs.close()
        self.sock = ours
        self._ready = False
        self.failed: str | None = None

    def _await_ready(self) -> None:
        if self._ready or self.failed:
            return
        self.sock.settimeout(_START_TIMEOUT)
        try:
            msg, _ = ipc.recv(self.sock)
            if msg.get("status") != "ready":
                raise EOFError
            self._ready = True
        except (EOFError, OSError):
            self.failed = "the zygote did not start: " + self.log_tail()
        finally:
            self.sock.settimeout(None)

    def log_tail(self) -> str:
        if self.log is None:
            return "(no log)"
        try:
            return self.log.read_text(errors="replace")[-2000:].strip() or "(no output)"
        except OSError:
            return "(no log)"

    def spawn(self, spec: dict, fds: tuple[int, int, int]) -> int | None:
        """Fork a worker with ``fds`` = (request read end, response write end, log write end);
        returns its pid, or None when the zygote is not working (the caller starts a process)."""
        self._await_ready()
        if self.failed:
            return None
        try:
            ipc.send(self.sock, {"op": "spawn", **spec}, fds)
            reply, _ = ipc.recv(self.sock)
        except (EOFError, OSError):
            self.failed = "the zygote stopped: " + self.log_tail()
            return None
        if "pid" not in reply:
            self.failed = str(reply.get("error", "the zygote refused to fork"))
            return None
        return int(reply["pid"])

    def wait(self, pid: int, timeout: float) -> int | None:
        """The exit status of a forked worker (``Popen.returncode`` style), None while it runs."""
        try:
            ipc.send(self.sock, {"op": "wait", "pid": pid, "timeout": timeout})
            reply, _ = ipc.recv(self.sock)
        except (EOFError, OSError):
            return -signal.SIGKILL
        return reply.get("status")

    def close(self) -> None:
        """Closing the socket makes the zygote kill its workers and leave."""
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


# -- the zygote's side -----------------------------------------------------------------------

def _reroot(old: str, new: str) -> None:
    """Point import-time constants that name the zygote's scratch (HF_HOME, caches, tempdir)
    at the worker's own scratch directory."""
    for name, module in list(sys.modules.items()):
        if name.startswith("torch") or module is None:
            continue
        space = getattr(module, "__dict__", None)
        if not isinstance(space, dict):
            continue
        for key, value in list(space.items()):
            if type(value) is str and value.startswith(old):
                space[key] = new + value[len(old):]
            elif isinstance(value, PurePath) and str(value).startswith(old):
                space[key] = type(value)(new + str(value)[len(old):])


def _child(spec: dict, req: int, resp: int, log: int, origin: str) -> None:
    """In the forked child: become the worker ``spec`` describes; never returns."""
    code = 0
    try:
        os.setpgid(0, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        keep = {0, 1, 2, req, resp}
        for fd in map(int, os.listdir("/proc/self/fd")):
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        from hfcourse.sandbox.limits import Limits, apply_rlimits

        apply_rlimits(Limits(**spec["limits"]))
        os.environ.clear()
        os.environ.update(spec["env"])
        os.chdir(spec["cwd"])
        tempfile.tempdir = None
        _reroot(origin, spec["cwd"])
        if spec.get("jail"):
            from hfcourse.sandbox import jail

            jail.enter(spec["jail"], keep=(req, resp))
        from hfcourse.sandbox import worker

        sys.argv = [worker.__file__, str(req), str(resp)]  # as an exec'd worker has it
        worker.after_fork(int(spec["limits"].get("threads", 1)))
        worker.serve(req, resp)
    except BaseException:  # noqa: BLE001 - report anything on the worker's log, then leave
        code = 70
        try:
            os.write(2, traceback.format_exc().encode()[-4000:])
        except OSError:
            pass
    os._exit(code)


def _wait(pid: int, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return -signal.SIGKILL
        if done:
            return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.005)


def _serve(sock: socket.socket, origin: str) -> None:
    children: set[int] = set()
    try:
        while True:
            try:
                msg, fds = ipc.recv(sock, max_fds=3)
            except (EOFError, OSError):
                return
            if msg.get("op") == "spawn" and len(fds) == 3:
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    sock.close()
                    _child(msg, *fds, origin)
                try:
                    os.setpgid(pid, pid)
                except OSError:
                    pass
                for fd in fds:
                    os.close(fd)
                children.add(pid)
                ipc.send(sock, {"pid": pid})
            elif msg.get("op") == "wait":
                pid = int(msg.get("pid", 0))
                status = _wait(pid, float(msg.get("timeout", 0))) if pid in children else -signal.SIGKILL
                if status is not None:
                    children.discard(pid)
                ipc.send(sock, {"status": status})
            else:
                for fd in fds:
                    os.close(fd)
                ipc.send(sock, {"error": f"unknown request {msg.get('op')!r}"})
    finally:
        for pid in children:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def main(argv: list[str]) -> None:
    sock = socket.socket(fileno=int(argv[0]))
    preload, origin = [], os.getcwd()
    for arg in argv[1:]:
        if arg.startswith("--preload="):
            preload = [m for m in arg.split("=", 1)[1].split(",") if m]
        elif arg.startswith("--scratch="):
            origin = arg.split("=", 1)[1]
    from hfcourse.sandbox import worker

    worker.preload(preload)
    ipc.send(sock, {"status": "ready", "pid": os.getpid()})
    _serve(sock, origin)


if __name__ == "__main__":
    main(sys.argv[1:])
