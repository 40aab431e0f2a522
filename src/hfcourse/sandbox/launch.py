"""Run a student's function in several processes that form one distributed CPU group
(gloo on 127.0.0.1), the way ``accelerate launch``, ``torchrun`` or ``notebook_launcher`` do.

Each process is a fresh interpreter (``python -I -m hfcourse.sandbox.launch WORKDIR RANK``)
started by the worker, so it inherits the worker's jail. It imports the student module from
its file, calls the function by name (nothing is pickled), and writes its result, encoded by
the sandbox codec, to a file in the scratch directory. The arguments travel the same way:
fixture references are loaded in every process, as the worker loads them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

from hfcourse.sandbox import codec

__all__ = ["run", "function_source", "NO_LOOPBACK", "LAUNCH_CAP_S"]

NO_LOOPBACK = "the sandbox has no loopback network"
LAUNCH_CAP_S = 600.0
"""Seconds a launched group may run before its processes are killed."""


def function_source(fn: Any) -> tuple[str, str]:
    """The module file and name of a top-level function that a new process can import."""
    if not isinstance(fn, types.FunctionType):
        raise TypeError(f"the launcher needs a function, got a {type(fn).__name__}")
    path = fn.__code__.co_filename
    if fn.__qualname__ != fn.__name__ or fn.__globals__.get(fn.__name__) is not fn:
        raise TypeError(f"{fn.__qualname__} is not a top-level function of its module: new processes import "
                        "the training function by name, so define it at the top level")
    if not Path(path).is_file() or fn.__globals__.get("__file__") != path:
        raise TypeError(f"{fn.__name__} does not come from a module file that new processes can import")
    return path, fn.__name__


def _check_loopback() -> None:
    """Processes of one group talk over TCP on 127.0.0.1; a network namespace whose ``lo``
    is down (connect fails with ENETUNREACH) cannot host them."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client.settimeout(5)
        try:
            client.connect(server.getsockname())
        except OSError as exc:
            raise OSError(exc.errno, f"{NO_LOOPBACK} (connecting to 127.0.0.1 failed: {exc.strerror}): "
                                     "the worker's network namespace needs its lo interface up") from None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(rank: int, size: int, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(size),
               LOCAL_WORLD_SIZE=str(size), RANK=str(rank), LOCAL_RANK=str(rank), GROUP_RANK="0")
    if sys.platform.startswith("linux"):
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    elif sys.platform == "darwin":
        env.setdefault("GLOO_SOCKET_IFNAME", "lo0")
    return env


def _read_result(path: Path) -> tuple[dict, Any]:
    data = path.read_bytes()
    c, h, b = codec.unpack_lengths(data[: codec.FRAME_PREFIX])
    body = data[codec.FRAME_PREFIX:]
    ctl = json.loads(body[:c])
    if ctl.get("status") != "ok":
        return ctl, None
    return ctl, codec.decode(body[c : c + h], body[c + h : c + h + b], scratch=Path.cwd())


def _wait(procs: list[subprocess.Popen], cap: float) -> None:
    """Wait for every process; once one fails or the cap passes, kill the rest (a peer
    blocked in a collective would otherwise wait for the dead one forever)."""
    deadline = time.monotonic() + cap
    while any(p.poll() is None for p in procs):
        if any(p.returncode not in (None, 0) for p in procs) or time.monotonic() > deadline:
            time.sleep(0.5)
            for p in procs:
                if p.poll() is None:
                    p.kill()
        time.sleep(0.05)
    for p in procs:
        p.wait()


def _ended(code: int) -> str:
    """How a process ended, by exit status (negative: the signal that killed it)."""
    if code >= 0:
        return f"exited with status {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    why = {"SIGABRT": " (it aborted: in a gloo collective this often means tensors of different shapes on the "
                      "processes; pad them to one shape first, as accelerator.pad_across_processes does)",
           "SIGKILL": " (killed: out of memory, or over the time limit)"}.get(name, "")
    return f"was killed by {name}{why}"


def run(fn: Any, header: bytes, blob: bytes, processes: int = 2, cap: float = LAUNCH_CAP_S) -> dict[str, Any]:
    """Call ``fn`` with the codec-encoded ``{"args": […], "kwargs": {…}}`` in ``processes``
    new processes of one group. Returns ``{"ranks": [the result of each process],
    "seconds": wall time}``. A failure in a process is raised here, NotImplementedError as
    itself (so an untouched stub counts as not attempted)."""
    path, name = function_source(fn)
    _check_loopback()
    work = Path.cwd() / f"launch-{os.getpid()}-{time.monotonic_ns()}"
    work.mkdir(parents=True)
    (work / "spec.json").write_text(json.dumps({"path": path, "name": name}))
    (work / "args").write_bytes(codec.pack({}, header, blob))
    port, start = _free_port(), time.perf_counter()
    procs = []
    for rank in range(processes):
        log = open(work / f"rank{rank}.log", "wb")
        procs.append(subprocess.Popen([sys.executable, "-I", "-m", "hfcourse.sandbox.launch", str(work), str(rank)],
                                      stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                      env=_env(rank, processes, port)))
        log.close()
    _wait(procs, cap)
    seconds = time.perf_counter() - start
    replies = [_read_result(work / f"rank{r}.result") if (work / f"rank{r}.result").is_file() else None
               for r in range(processes)]
    failed = sorted((r for r, reply in enumerate(replies) if reply and reply[0].get("status") != "ok"),
                    key=lambda r: replies[r][0].get("type") != "NotImplementedError")
    if failed:
        ctl = replies[failed[0]][0]
        exc = NotImplementedError if ctl.get("type") == "NotImplementedError" else RuntimeError
        raise exc(f"process {failed[0]} of {processes}: {ctl.get('message', '')}")
    for rank, reply in enumerate(replies):
        if reply is None:
            tail = (work / f"rank{rank}.log").read_text(errors="replace")[-600:]
            raise RuntimeError(f"process {rank} of {processes} {_ended(procs[rank].returncode)} without a result; "
                               f"its last output:\n{tail}")
    return {"ranks": [reply[1] for reply in replies if reply], "seconds": seconds}


def _rank_main(work: Path, rank: int) -> None:
    import importlib.util

    from hfcourse.sandbox.worker import _describe, _relativize, resolve

    spec = json.loads((work / "spec.json").read_text())
    try:
        data = (work / "args").read_bytes()
        c, h, b = codec.unpack_lengths(data[: codec.FRAME_PREFIX])
        body = data[codec.FRAME_PREFIX + c:]
        payload = resolve(codec.decode(body[:h], body[h : h + b], scratch=Path.cwd()), {}, Path.cwd())
        loader = importlib.util.spec_from_file_location(f"{Path(spec['path']).stem}_rank{rank}", spec["path"])
        module = importlib.util.module_from_spec(loader)
        loader.loader.exec_module(module)
        value = getattr(module, spec["name"])(*payload["args"], **payload["kwargs"])
        h, b = codec.encode(_relativize(value, Path.cwd().resolve()))
        frame, code = codec.pack({"status": "ok"}, h, b), 0
    except BaseException as exc:  # noqa: BLE001 - report whatever the student code raised
        frame, code = codec.pack({"status": "error", "type": type(exc).__name__,
                                  "message": _describe(exc, spec["path"])}), 1
    tmp = work / f"rank{rank}.result.tmp"
    tmp.write_bytes(frame)
    tmp.rename(work / f"rank{rank}.result")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _rank_main(Path(sys.argv[1]), int(sys.argv[2]))
