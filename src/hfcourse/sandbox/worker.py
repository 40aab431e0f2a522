"""The worker: a subprocess that imports one student module and runs its functions.

Started as ``python -I -m hfcourse.sandbox.worker REQ_FD RESP_FD``. It reads request
frames on REQ_FD and answers each on RESP_FD with data only (see codec). It never
decides pass or fail: the grader compares, with values that never enter here.
"""

from __future__ import annotations

import errno
import importlib.util
import io
import os
import sys
import traceback
from pathlib import Path, PurePath
from typing import Any

from hfcourse.sandbox import codec

_OUTPUT_CAP = 16 << 10


def _read_exact(fd: int, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int) -> tuple[dict, bytes, bytes]:
    import json

    c, h, b = codec.unpack_lengths(_read_exact(fd, codec.FRAME_PREFIX))
    return json.loads(_read_exact(fd, c)), _read_exact(fd, h), _read_exact(fd, b)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _CappedText(io.TextIOBase):
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        room = _OUTPUT_CAP - self.size
        if room > 0:
            self.parts.append(s[:room])
            self.size += min(len(s), room)
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def text(self) -> str:
        tail = f"\n[... {self.dropped} more characters of output dropped]" if self.dropped else ""
        return "".join(self.parts) + tail


def _category(exc: BaseException) -> str:
    if isinstance(exc, NotImplementedError):
        return "NOT_ATTEMPTED"
    if isinstance(exc, MemoryError):
        return "MEMORY"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "DISK"
    if isinstance(exc, RuntimeError) and any(s in str(exc) for s in ("can't allocate memory", "not enough memory", "out of memory")):
        return "MEMORY"
    return "EXCEPTION"


def _describe(exc: BaseException, module_file: str | None) -> str:
    """First line of the exception, with the student's own frames (file:line) only."""
    if isinstance(exc, SystemExit):
        head = f"SystemExit({exc.code!r}): the code called sys.exit() or exit()"
    else:
        first = str(exc).splitlines()[0] if str(exc) else ""
        head = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    frames = []
    for fs in traceback.extract_tb(exc.__traceback__):
        if module_file and os.path.abspath(fs.filename) == os.path.abspath(module_file):
            frames.append(f"  line {fs.lineno}, in {fs.name}: {(fs.line or '').strip()}")
    return "\n".join([head, *frames[-3:]])


class Worker:
    """State of one worker process: the loaded module and resolved fixtures."""

    def __init__(self) -> None:
        self.module: Any = None
        self.module_file: str | None = None
        self.cache: dict[str, Any] = {}
        self.scratch = Path.cwd()

    def _resolve(self, v: Any) -> Any:
        return resolve(v, self.cache, self.scratch)

    def load(self, ctl: dict) -> dict:
        path = ctl["path"]
        spec = importlib.util.spec_from_file_location(ctl.get("name", "submission"), path)
        module = importlib.util.module_from_spec(spec)
        self.module_file = path
        spec.loader.exec_module(module)
        self.module = module
        return {"status": "ok"}

    def call(self, ctl: dict, header: bytes, blob: bytes) -> tuple[dict, bytes, bytes]:
        if self.module is None:
            return {"status": "error", "category": "EXCEPTION", "message": "no module loaded"}, b"", b""
        name = ctl["fn"]
        fn = getattr(self.module, name, None)
        if fn is None or not callable(fn):
            return {"status": "error", "category": "EXCEPTION",
                    "message": f"the module has no function {name}(): keep the names the exercise gives"}, b"", b""
        processes = int(ctl.get("processes") or 1)
        if processes > 1:
            from hfcourse.sandbox.launch import run

            # every process decodes the arguments and loads the fixtures itself
            result = run(fn, header, blob, processes)
        else:
            payload = self._resolve(codec.decode(header, blob, scratch=self.scratch))
            args, kwargs = payload["args"], payload["kwargs"]
            result = None
            for _ in range(max(1, int(ctl.get("repeat", 1)))):
                result = fn(*args, **kwargs)
        probe = ctl.get("probe")
        if probe:
            from hfcourse.sandbox.adapters import probe as find_probe

            result = find_probe(probe)(result)
        if ctl.get("discard"):
            result = None
        h, b = codec.encode(_relativize(result, self.scratch))
        return {"status": "ok"}, h, b


def resolve(v: Any, cache: dict, scratch: Path) -> Any:
    """``v`` with its fixture references loaded and its services started (``cache`` keeps
    what is not ``fresh``, across calls)."""
    if isinstance(v, codec.Ref):
        key = f"fixture:{v.directory}:{v.dropout}"
        if not v.fresh and key in cache:
            return cache[key]
        from hfcourse.sandbox.adapters import load_fixture

        obj = load_fixture(Path(v.directory), v.dropout)
        if not v.fresh:
            cache[key] = obj
        return obj
    if isinstance(v, codec.Service):
        from hfcourse.sandbox.adapters import start_service

        key = f"service:{v.name}:{v.state}"
        if key not in cache:
            cache[key] = start_service(v.name, codec.inside(scratch, v.state), dict(v.options))
        return cache[key]
    if isinstance(v, list):
        return [resolve(x, cache, scratch) for x in v]
    if isinstance(v, tuple):
        return tuple(resolve(x, cache, scratch) for x in v)
    if isinstance(v, dict):
        return {k: resolve(x, cache, scratch) for k, x in v.items()}
    return v


def _relativize(v: Any, scratch: Path) -> Any:
    if issubclass(type(v), PurePath):
        p = Path(v).resolve()
        if p == scratch or scratch in p.parents:
            return codec.ScratchPath(str(p.relative_to(scratch)))
        raise codec.CodecError("a path outside the scratch directory cannot be returned")
    if type(v) is list:
        return [_relativize(x, scratch) for x in v]
    if type(v) is tuple:
        return tuple(_relativize(x, scratch) for x in v)
    if type(v) is dict:
        return {k: _relativize(x, scratch) for k, x in v.items()}
    return v


def _serve(req: int, resp: int) -> None:
    state = Worker()
    real_out, real_err = sys.stdout, sys.stderr
    while True:
        try:
            ctl, header, blob = _read_frame(req)
        except EOFError:
            return
        op = ctl.get("op")
        if op == "exit":
            return
        captured = _CappedText()
        sys.stdout = sys.stderr = captured
        h = b = b""
        try:
            if op == "load":
                reply = state.load(ctl)
            elif op == "call":
                reply, h, b = state.call(ctl, header, blob)
            elif op == "pin":
                os.sched_setaffinity(0, {int(c) for c in ctl["cpus"]})
                reply = {"status": "ok"}
            else:
                reply = {"status": "error", "category": "BAD_OUTPUT", "message": f"unknown op {op!r}"}
        except codec.CodecError as exc:
            reply = {"status": "error", "category": exc.category, "message": str(exc)}
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything, SystemExit included
            reply = {"status": "error", "category": _category(exc), "message": _describe(exc, state.module_file)}
        finally:
            sys.stdout, sys.stderr = real_out, real_err
        reply["output"] = captured.text()
        reply["id"] = ctl.get("id")
        _write_all(resp, codec.pack(reply, h, b))


def preload(modules: list[str]) -> None:
    """Import what every section needs before any student code runs (no torch op: a zygote
    forks after this)."""
    for name in modules:
        importlib.import_module(name)


def after_fork(threads: int) -> None:
    """Per-worker state that must not come from a zygote: thread count, numpy's global seed."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(max(1, threads))
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()


def serve(req: int, resp: int) -> None:
    """Say ready, answer requests until told to exit, then leave at once."""
    _write_all(resp, codec.pack({"status": "ready", "pid": os.getpid()}))
    _serve(req, resp)
    # Every reply has been sent: leave without the interpreter's teardown (freeing models and
    # modules takes ~0.5 s, and a student's atexit hooks have nothing left to do).
    sys.__stdout__.flush()
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    req, resp = int(argv[0]), int(argv[1])
    for arg in argv[2:]:
        if arg.startswith("--preload="):
            preload([m for m in arg.split("=", 1)[1].split(",") if m])
    after_fork(int(os.environ.get("OMP_NUM_THREADS", "1")))
    serve(req, resp)


if __name__ == "__main__":
    main()
