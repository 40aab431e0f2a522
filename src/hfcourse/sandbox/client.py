"""The grader's side of a worker: start it, call into it with a deadline, kill it."""

from __future__ import annotations

import dataclasses
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hfcourse.paths import cache_dir, scratch_dir
from hfcourse.sandbox import codec, disk, procs, scratchfs
from hfcourse.sandbox.limits import Limits, apply_rlimits, worker_env
from hfcourse.sandbox.zygote import ForkedProcess, Zygote

__all__ = ["StudentError", "WorkerProcess", "Reply"]

_CONTROL_CAP = 1 << 20
_LOG_CAP = 64 << 10
_START_TIMEOUT = 120.0


class StudentError(Exception):
    """A call into student code did not return a usable value."""

    def __init__(self, category: str, message: str, output: str = ""):
        super().__init__(message)
        self.category = category
        self.message = message
        self.output = output


@dataclass
class Reply:
    value: Any
    output: str
    seconds: float
    """Wall time of the call measured by the grader (round trip)."""


@dataclass
class _Log:
    data: bytearray = field(default_factory=bytearray)
    dropped: int = 0


def _drain(stream, log: _Log) -> None:
    for chunk in iter(lambda: stream.read1(1 << 16), b""):
        room = _LOG_CAP - len(log.data)
        if room > 0:
            log.data += chunk[:room]
        log.dropped += max(0, len(chunk) - max(room, 0))


class WorkerProcess:
    """One worker subprocess; started at construction, replaced after a fatal error."""

    def __init__(self, label: str, *, limits: Limits = Limits(), preload: tuple[str, ...] = ("torch", "transformers"),
                 jail: bool = False, readable: tuple[str, ...] = (), zygote: Zygote | None = None,
                 scratch_bytes: int | None = None):
        self.label = label
        self.zygote = zygote
        """Fork the worker from this zygote (a new process when it is None or not working)."""
        self.limits = limits
        self.preload = preload
        self.jail = jail
        """Run in the level-1 jail (namespaces, allow-listed filesystem, sandbox uid)."""
        self.readable = readable
        """Extra paths the jailed worker may read (the graded module's directory)."""
        self.uid: int | None = None
        """The sandbox uid of a jailed worker (owner of its scratch directory): one for the
        worker's whole life, restarts included, so nothing in the scratch changes owner."""
        if jail:
            from hfcourse.sandbox.levels import sandbox_uid

            self.uid = sandbox_uid()
        self.scratch = scratch_dir(label)
        self.scratch_bytes = scratch_bytes
        """The size of the scratch's own tmpfs (None: not capped; see ``hfcourse.sandbox.disk``)."""
        if scratch_bytes is not None:
            disk.mount_scratch(self.scratch, scratch_bytes)
        if self.uid is not None:
            fd = os.open(self.scratch, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            try:
                os.fchown(fd, self.uid, self.uid)
            finally:
                os.close(fd)
        self._private: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.module: tuple[str, str] | None = None
        self.load_error: StudentError | None = None
        self._seq = 0
        self._start()

    # -- process lifecycle -------------------------------------------------
    def _start(self) -> None:
        for sub in ("tmp", "hf"):
            try:
                scratchfs.ensure_dir(self.scratch, sub, self.uid)
            except scratchfs.Refused:  # left there by the student's code: its own loss
                pass
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        env = worker_env(self.scratch, cache_dir(), self.limits)
        self.proc = self._fork(req_r, resp_w, env) if self.zygote is not None else None
        if self.proc is None:
            argv = [sys.executable, "-I", "-m", "hfcourse.sandbox.worker", str(req_r), str(resp_w)]
            argv.append("--preload=" + ",".join(self.preload))
            if self.jail:
                unshare = ["unshare", "--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child", "--mount-proc"]
                argv = [*unshare, sys.executable, "-I", "-m", "hfcourse.sandbox.jail", json.dumps(self._jail_spec()), "--", *argv]
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(req_r, resp_w),
                cwd=self.scratch,
                env=env,
                start_new_session=True,
                preexec_fn=lambda: apply_rlimits(self.limits),
            )
        os.close(req_r)
        os.close(resp_w)
        self._req, self._resp = req_w, resp_r
        self.log = _Log()
        self._drainer = threading.Thread(target=_drain, args=(self.proc.stdout, self.log), daemon=True)
        self._drainer.start()
        self._ready = False

    def _fork(self, req_r: int, resp_w: int, env: dict[str, str]) -> ForkedProcess | None:
        log_r, log_w = os.pipe()
        spec = {"env": env, "cwd": str(self.scratch), "limits": dataclasses.asdict(self.limits),
                "jail": self._jail_spec() if self.jail else None}
        try:
            pid = self.zygote.spawn(spec, (req_r, resp_w, log_w))
        finally:
            os.close(log_w)
        if pid is None:
            os.close(log_r)
            return None
        return ForkedProcess(self.zygote, pid, os.fdopen(log_r, "rb"))

    def _jail_spec(self) -> dict:
        import hfcourse
        from hfcourse.sandbox.levels import plan, sandbox_uid

        if self.uid is None:
            self.uid = sandbox_uid()
        uid = self.uid
        cache = cache_dir() / "fixtures"
        cache.mkdir(parents=True, exist_ok=True)
        spec = {
            "uid": uid,
            "cwd": str(self.scratch),
            "read": [sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)),
                     str(Path(hfcourse.__file__).resolve().parents[1]), str(cache), *self.readable],
            "write": [str(self.scratch)],
            "seccomp": plan().seccomp,
            "cgroup": f"hfcourse-{uid}" if plan().cgroups else None,
            "memory_bytes": self.limits.memory_bytes,
        }
        self._cgroup = spec["cgroup"]
        if self._cgroup:  # a cgroup left from before (not yet removed) keeps its old counts
            from hfcourse.sandbox.confine import oom_kills

            self._oom_base = oom_kills(self._cgroup)
        return spec

    def make_dir(self, relative: str) -> Path:
        """A directory inside scratch that the worker (its sandbox uid, when jailed) owns; one
        that student code left there as a link or a file is refused (StudentError REJECTED)."""
        try:
            return scratchfs.ensure_dir(self.scratch, relative, self.uid)
        except scratchfs.Refused as exc:
            raise StudentError(exc.category, exc.message) from None

    def private_dir(self, label: str) -> Path:
        """A new directory that only the grader can read, removed with the worker."""
        if self._private is None:
            self._private = scratch_dir(f"{self.label.split('-')[0]}-grader")
            os.chmod(self._private, 0o700)
        return Path(tempfile.mkdtemp(prefix=f"{label}-", dir=self._private))

    def collect(self, relative: str) -> Path:
        """What the worker left at ``relative`` in its scratch, copied (regular files only, never
        through a link, bounded in size) to a directory the student cannot reach; read that."""
        dest = self.private_dir("collected") / (scratchfs.parts(relative)[-1:] or ["scratch"])[0]
        try:
            return scratchfs.copy_out(self.scratch, relative, dest)
        except scratchfs.Refused as exc:
            raise StudentError(exc.category, exc.message) from None

    def put(self, source: Path | bytes, relative: str) -> Path:
        """Put a trusted file or tree (or bytes) at ``relative`` in the scratch, owned by the worker."""
        try:
            if isinstance(source, bytes):
                return scratchfs.write_file(self.scratch, relative, source, self.uid)
            return scratchfs.copy_in(Path(source), self.scratch, relative, self.uid)
        except scratchfs.Refused as exc:
            raise StudentError(exc.category, exc.message) from None

    def _await_ready(self) -> None:
        if self._ready:
            return
        ctl, _, _ = self._read(time.monotonic() + _START_TIMEOUT)
        if ctl.get("status") != "ready":
            raise self._fatal("CRASH", "the worker did not start")
        self._ready = True

    def kill(self) -> None:
        """SIGKILL the whole process group and reap it."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        for fd in (self._req, self._resp):
            try:
                os.close(fd)
            except OSError:
                pass
        self.proc = None
        if getattr(self, "_cgroup", None):
            from hfcourse.sandbox.confine import remove_cgroups

            for _ in range(100):
                if remove_cgroups(self._cgroup):
                    break
                time.sleep(0.02)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.write(self._req, codec.pack({"op": "exit"}))
                self.proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()
        disk.unmount(self.scratch)
        shutil.rmtree(self.scratch, ignore_errors=True)
        if self._private is not None:
            shutil.rmtree(self._private, ignore_errors=True)
        if self.uid is not None and not getattr(self, "_uid_released", False):
            from hfcourse.sandbox.levels import release_uid

            release_uid(self.uid)  # its processes are dead and its scratch is gone: another worker may have it
            self._uid_released = True

    def _restart(self) -> None:
        self.kill()
        self._start()

    # -- framing -------------------------------------------------------------
    def _read_exact(self, n: int, deadline: float) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self._resp], [], [], left)
            if not ready:
                raise TimeoutError
            chunk = os.read(self._resp, min(n - len(buf), 1 << 20))
            if not chunk:
                raise EOFError
            buf += chunk
        return bytes(buf)

    def _read(self, deadline: float) -> tuple[dict, bytes, bytes]:
        lim = codec.Limits()
        budget = deadline - time.monotonic()
        try:
            c, h, b = codec.unpack_lengths(self._read_exact(codec.FRAME_PREFIX, deadline))
            if c > _CONTROL_CAP or h > lim.header_bytes or b > lim.blob_bytes:
                raise self._fatal("RESULT_TOO_BIG", f"the result is {h + b} bytes, over the limit of {lim.header_bytes + lim.blob_bytes}")
            ctl_raw = self._read_exact(c, deadline)
            header = self._read_exact(h, deadline)
            blob = self._read_exact(b, deadline)
        except TimeoutError:
            raise self._fatal("TIMEOUT", f"no answer within {budget:.0f} s: an endless loop, or much slower than needed") from None
        except EOFError:
            raise self._died() from None
        try:
            ctl = json.loads(ctl_raw, parse_constant=lambda name: None)
            if type(ctl) is not dict:
                raise ValueError
        except ValueError:
            raise self._fatal("BAD_OUTPUT", "the worker sent a malformed reply") from None
        return ctl, header, blob

    def _fatal(self, category: str, message: str) -> StudentError:
        memory = self._memory_killed() if category in ("TIMEOUT", "CRASH") else None
        self.kill()
        if memory:
            return StudentError("MEMORY", memory, self.output_log())
        return StudentError(category, message, self.output_log())

    def _memory_killed(self) -> str | None:
        """What the worker's memory cgroup says, when it killed a process of this worker for
        reaching the limit since the worker started (memfds, tmpfs files and plain allocations
        alike; the address-space rlimit does not see the first two)."""
        cgroup = getattr(self, "_cgroup", None)
        if not cgroup:
            return None
        from hfcourse.sandbox.confine import memory_peak, oom_kills

        kills = oom_kills(cgroup) - getattr(self, "_oom_base", 0)
        if kills <= 0:
            return None
        peak, limit = memory_peak(cgroup)
        limit = limit if limit and limit < 1 << 60 else self.limits.memory_bytes
        used = f" (peak {peak / (1 << 30):.2f} GiB)" if peak else ""
        return (f"the process was killed for using more than its memory limit of {limit / (1 << 30):.1f} GiB{used}, "
                "counting memory files (memfd_create, /dev/shm, tmpfs) and child processes")

    def _died(self) -> StudentError:
        code = self.proc.wait(timeout=10) if self.proc else None
        memory = self._memory_killed()
        self.kill()
        if memory:
            return StudentError("MEMORY", memory, self.output_log())
        if code is not None and code < 0:
            sig = signal.Signals(-code).name
            hint = " (out of memory?)" if sig == "SIGKILL" else ""
            return StudentError("CRASH", f"the process was killed by {sig}{hint}", self.output_log())
        return StudentError("CRASH", f"the process exited with code {code} during the call (os._exit or exit from native code?)", self.output_log())

    def output_log(self) -> str:
        text = self.log.data.decode("utf-8", "replace")
        return text + (f"\n[... {self.log.dropped} more bytes dropped]" if self.log.dropped else "")

    # -- requests ------------------------------------------------------------
    def _request(self, ctl: dict, header: bytes, blob: bytes, timeout: float) -> tuple[dict, bytes, bytes, float]:
        if self.proc is None:
            self._restart()
        self._await_ready()
        self._seq += 1
        ctl = {**ctl, "id": self._seq}
        start = time.perf_counter()
        try:
            self._write_all(codec.pack(ctl, header, blob))
        except (BrokenPipeError, OSError):
            raise self._died() from None
        reply, h, b = self._read(time.monotonic() + timeout)
        elapsed = time.perf_counter() - start
        if reply.get("id") != self._seq:
            raise self._fatal("BAD_OUTPUT", "the worker answered out of turn")
        return reply, h, b, elapsed

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._req, view):]

    def load(self, path: Path, name: str, timeout: float) -> None:
        """Import the module at ``path`` in the worker; remembered for restarts."""
        self.module = (str(path), name)
        self.load_error = None
        try:
            reply, _, _, _ = self._request({"op": "load", "path": str(path), "name": name}, b"", b"", timeout)
        except StudentError as err:
            err.message = f"importing the module failed: {err.category} {err.message}".strip()
            self.load_error = err
            return
        if reply.get("status") != "ok":
            self.load_error = StudentError(
                reply.get("category", "EXCEPTION"),
                "importing the module failed: " + str(reply.get("message", "")),
                str(reply.get("output", "")),
            )

    def tree(self) -> "procs.Tree | None":
        """This worker's processes (None while it is not running)."""
        if self.proc is None:
            return None
        cgroup = None
        if getattr(self, "_cgroup", None):
            from hfcourse.sandbox.confine import cgroup_dirs

            dirs = cgroup_dirs(self._cgroup)
            cgroup = dirs.get("pids") or dirs.get("v2")
        return procs.Tree(self.proc.pid, self.uid if self.jail else None, cgroup)

    def reap(self) -> int:
        """Kill what the student's code left running in this worker (not the worker itself)."""
        tree = self.tree()
        return tree.kill_strays() if tree is not None else 0

    def pin(self, cpus: set[int], timeout: float = 30.0) -> bool:
        """Run the worker on ``cpus`` only (before a throughput comparison); False where the
        platform cannot or the worker is not running."""
        if self.proc is None or self.load_error is not None or not hasattr(os, "sched_setaffinity"):
            return False
        try:
            reply, _, _, _ = self._request({"op": "pin", "cpus": sorted(cpus)}, b"", b"", timeout)
        except StudentError:
            return False
        return reply.get("status") == "ok"

    def call(self, fn: str, args: tuple, kwargs: dict, *, timeout: float, repeat: int = 1,
             probe: str | None = None, discard: bool = False, processes: int = 1) -> Reply:
        if self.load_error is not None:
            raise self.load_error
        if self.proc is None and self.module is not None:
            self._restart()
            self.load(Path(self.module[0]), self.module[1], timeout)
            if self.load_error is not None:
                raise self.load_error
        header, blob = codec.encode({"args": list(args), "kwargs": dict(kwargs)})
        ctl = {"op": "call", "fn": fn, "repeat": repeat, "probe": probe, "discard": discard, "processes": processes}
        reply, h, b, elapsed = self._request(ctl, header, blob, timeout)
        output = str(reply.get("output", ""))
        if reply.get("status") != "ok":
            raise StudentError(str(reply.get("category", "EXCEPTION")), str(reply.get("message", "")), output)
        try:
            value = codec.decode(h, b, scratch=self.scratch)
        except codec.CodecError as exc:
            raise StudentError(exc.category, str(exc), output) from None
        return Reply(value, output, elapsed)
