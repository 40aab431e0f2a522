"""The check server: ``hfcourse check`` in about a second once torch is imported.

A cold ``hfcourse check`` spends most of its time importing torch and transformers, twice (the
grader and the worker zygote). The server imports them once and stays in the background, idle
for at most ``HFCOURSE_SERVER_IDLE`` seconds (default 900). For each check it forks a grading
process that takes over the caller's terminal (stdin, stdout and stderr are passed as file
descriptors), working directory and environment and runs exactly what a local check runs. That
process first forks its worker zygote, before it has read anything of the request, so workers
never hold the caller's environment or the graders' code. Only the user who owns the socket can
connect (its directory is private and the peer's uid is checked).

There is one server per checkout, whoever starts it (a terminal, an editor's task runner, a
notebook's check cell): its socket is named after the course root alone. It records its *build*:
the versions of the libraries it imported, the hfcourse code, course.toml and the settings that
change grading (``HFCOURSE_CACHE``, ``HFCOURSE_SANDBOX``, ``HFCOURSE_ZYGOTE``). A caller of
another build is refused, runs its check itself and starts a fresh server, which takes over the
socket; the old one leaves once its checks are done. Every check run locally starts the server
in the background, whether its output is a terminal or not; ``HFCOURSE_SERVER=0`` turns the
server off (checks then run in the calling process).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from hfcourse import ipc

__all__ = ["enabled", "run_remote", "start", "stop", "status", "servers", "socket_path", "build"]

_KEYED_ENV = ("HFCOURSE_CACHE", "HFCOURSE_SANDBOX", "HFCOURSE_ZYGOTE")
_KEYED_DISTRIBUTIONS = ("torch", "transformers", "tokenizers", "datasets", "evaluate", "accelerate", "huggingface_hub",
                        "pytest", "pytest-benchmark")
_EXTRA_PRELOAD = ("pytest", "_pytest.python", "_pytest.fixtures", "pytest_benchmark.plugin", "rich.console",
                  "rich.table", "hfcourse.cli", "hfcourse.grade", "hfcourse.plugin", "hfcourse.report",
                  "hfcourse.commands.student", "hfcourse.fixtures", "hfcourse.sandbox.client",
                  "hfcourse.sandbox.zygote", "hfcourse.sandbox.worker", "hfcourse.sandbox.jail")


def enabled() -> bool:
    return sys.platform.startswith("linux") and os.environ.get("HFCOURSE_SERVER", "1") != "0"


def _idle_seconds() -> float:
    return float(os.environ.get("HFCOURSE_SERVER_IDLE", "900"))


# -- where the server lives ----------------------------------------------------------------------

def _runtime_dir() -> Path:
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
    path = base / f"hfcourse-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    st = path.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise PermissionError(f"{path} must belong to you and be private (chmod 700 {path})")
    return path


def build(root: Path) -> str:
    """What a server must share with its caller to serve it: library versions, the hfcourse code,
    course.toml and the settings that change grading (not the interpreter's name: a notebook
    kernel's ``python3`` and the console script's ``python`` are one interpreter)."""
    import hfcourse

    digest = hashlib.sha256()
    for name in _KEYED_ENV:
        digest.update(f"{name}={os.environ.get(name, '')}\0".encode())
    for dist in _KEYED_DISTRIBUTIONS:
        try:
            digest.update(f"{dist}={importlib.metadata.version(dist)}\0".encode())
        except importlib.metadata.PackageNotFoundError:
            pass
    package = Path(hfcourse.__file__).resolve().parent
    for path in sorted([*package.rglob("*.py"), root / "course.toml"]):
        st = path.stat()
        digest.update(f"{path}:{st.st_mtime_ns}:{st.st_size}\0".encode())
    return digest.hexdigest()[:16]


def socket_path(root: Path) -> Path:
    """The checkout's one socket, named after its resolved course root."""
    return _runtime_dir() / f"check-{hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]}.sock"


def _connect(path: Path) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        return None
    return sock


# -- the caller's side -------------------------------------------------------------------------

def _std_fds() -> list[int]:
    fds = []
    for fd, mode in ((0, os.O_RDONLY), (1, os.O_WRONLY), (2, os.O_WRONLY)):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            fds.append(os.open(os.devnull, mode))
    return fds


def run_remote(root: Path, argv: list[str]) -> int | None:
    """Run ``hfcourse ARGV`` in the server of ``root``; None when there is no server to use (the
    caller runs the command itself and may ``start`` one for next time)."""
    try:
        sock = _connect(socket_path(root))
    except OSError:
        return None
    if sock is None:
        return None
    with sock:
        env = {**os.environ, "HFCOURSE_SERVER": "0"}
        try:
            ipc.send(sock, {"op": "check", "build": build(root)})
            ipc.send(sock, {"argv": argv, "cwd": os.getcwd(), "env": env}, _std_fds())
            started, _ = ipc.recv(sock)
        except (EOFError, OSError):
            return None
        if "pid" not in started:  # a server of another build: check here, and start a fresh one
            return None
        pid = int(started["pid"])
        interrupts = 0
        while True:
            try:
                done, _ = ipc.recv(sock)
                return int(done.get("exit", 2))
            except KeyboardInterrupt:
                interrupts += 1
                try:
                    os.kill(pid, signal.SIGINT if interrupts == 1 else signal.SIGKILL)
                except ProcessLookupError:
                    return 130
            except (EOFError, OSError):
                print("error: the check server stopped during the check; run it again "
                      "(HFCOURSE_SERVER=0 checks without the server)", file=sys.stderr)
                return 130 if interrupts else 2


def start(root: Path, *, wait: bool = False) -> Path:
    """Start the server of ``root`` in the background (no-op when it runs); ``wait`` until it
    answers. Returns its socket path."""
    path = socket_path(root)
    mine = build(root)
    running = _ask_at(path, {"op": "status"})
    if running is not None and running.get("build") == mine:
        return path
    if _starting(path, mine):  # another check started it a moment ago: it is importing torch
        if not wait:
            return path
    else:
        _spawn(root, path, mine)
    if wait:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            running = _ask_at(path, {"op": "status"})
            if running is not None and running.get("build") == mine:
                return path
            time.sleep(0.2)
        raise TimeoutError(f"the check server did not start; its log: {path.with_suffix('.log')}")
    return path


def _starting(path: Path, mine: str) -> bool:
    """A server of this build was spawned in the last 3 minutes and is still alive."""
    marker = path.with_suffix(".starting")
    try:
        pid, built = marker.read_text().split()
        if built != mine or time.time() - marker.stat().st_mtime > 180:
            return False
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    return True


def _spawn(root: Path, path: Path, mine: str) -> None:
    from hfcourse.paths import cache_dir, sweep_scratch

    sweep_scratch()
    env = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "HOME", "TZ", *_KEYED_ENV) if k in os.environ}
    env.update(HFCOURSE_CACHE=str(cache_dir()), HF_HUB_OFFLINE="1",
               HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1",
               TOKENIZERS_PARALLELISM="false", OPENBLAS_NUM_THREADS="1")
    env.setdefault("LANG", "C.UTF-8")
    argv = [sys.executable, "-I", "-m", "hfcourse.server", str(root.resolve()), str(path), mine]
    log_path = path.with_suffix(".log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                cwd=path.parent, env=env, start_new_session=True)
    path.with_suffix(".starting").write_text(f"{proc.pid} {mine}\n")


def _ask_at(path: Path, msg: dict) -> dict | None:
    sock = _connect(path)
    if sock is None:
        return None
    with sock:
        try:
            sock.settimeout(10)
            ipc.send(sock, msg)
            return ipc.recv(sock)[0]
        except (EOFError, OSError, ValueError):
            return None


def servers(root: Path) -> list[dict]:
    """The facts of every server of this checkout that answers (pid, started, checks served,
    build, socket), whoever started it, also one of an older hfcourse keyed otherwise."""
    try:
        candidates = sorted(_runtime_dir().glob("check-*.sock"))
    except OSError:
        return []
    where, mine = str(root.resolve()), build(root)
    found = []
    for path in candidates:
        facts = _ask_at(path, {"op": "status"})
        if facts is not None and str(Path(str(facts.get("root", ""))).resolve()) == where:
            found.append({**facts, "socket": str(path), "current": facts.get("build") == mine})
    return found


def status(root: Path) -> dict | None:
    """The facts of the server that serves this checkout's next check, None when none does."""
    return next((f for f in servers(root) if f["current"] and f["socket"] == str(socket_path(root))), None)


def stop(root: Path) -> int:
    """Stop every server of this checkout; returns how many were stopped."""
    return sum(_ask_at(Path(f["socket"]), {"op": "stop"}) is not None for f in servers(root))


# -- the server's side -------------------------------------------------------------------------

def _preload(root: Path) -> None:
    from hfcourse import manifest
    from hfcourse.sandbox import worker

    worker.preload([*manifest.load(root / "course.toml").preload, *_EXTRA_PRELOAD])


def _grading_child(conn: socket.socket, origin: str) -> None:
    """The forked grading process of one request; never returns."""
    code = 2
    try:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL)
        from hfcourse.sandbox import zygote

        if zygote.enabled():
            zygote.provide(zygote.Zygote.fork_here(origin))
        msg, fds = ipc.recv(conn, max_fds=3)
        for target, fd in zip((0, 1, 2), fds):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin = os.fdopen(0, "r", closefd=False)
        sys.stdout = os.fdopen(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
        sys.stderr = os.fdopen(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)
        os.environ.clear()
        os.environ.update(msg["env"])
        os.chdir(msg["cwd"])
        ipc.send(conn, {"pid": os.getpid()})
        finished = threading.Event()
        threading.Thread(target=_watch_caller, args=(conn, finished), daemon=True).start()
        from hfcourse import cli

        try:
            code = cli.main(list(msg["argv"]))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except KeyboardInterrupt:
            code = 130
        sys.stdout.flush()
        sys.stderr.flush()
        finished.set()
        ipc.send(conn, {"exit": code})
    except BaseException as exc:  # noqa: BLE001 - the caller must hear back, whatever happened
        try:
            ipc.send(conn, {"exit": 2, "error": f"{type(exc).__name__}: {exc}"})
        except OSError:
            pass
    os._exit(0)


def _watch_caller(conn: socket.socket, finished: threading.Event) -> None:
    """The caller going away (killed by a time limit, its terminal closed) stops the command as
    Ctrl-C would: it writes what it has and leaves."""
    try:
        while conn.recv(1024):
            pass
    except OSError:
        pass
    if not finished.is_set():
        os.kill(os.getpid(), signal.SIGINT)


def _reap(children: set[int]) -> None:
    for pid in list(children):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            children.discard(pid)


def serve(root: Path, path: Path, scratch: Path, built: str = "") -> None:
    """Listen on ``path`` until idle or stopped. The server itself reads only each request's
    first frame (``{"op": ...}``, nothing secret): a check's own frame is read by its child."""
    _preload(root)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    staging = path.with_name(f"{path.name}.{os.getpid()}")
    listener.bind(str(staging))
    os.chmod(staging, 0o600)
    listener.listen(8)
    inode = staging.stat().st_ino
    os.replace(staging, path)
    path.with_suffix(".starting").unlink(missing_ok=True)
    facts = {"pid": os.getpid(), "root": str(root), "started": time.time(), "checks": 0, "build": built}
    children: set[int] = set()
    last = time.monotonic()
    print(f"serving {root} on {path}", flush=True)

    def ours() -> bool:
        try:
            return path.stat().st_ino == inode
        except OSError:
            return False

    try:
        while True:
            ready, _, _ = select.select([listener], [], [], 2.0)
            _reap(children)
            if not ready:
                if not children and (not ours() or time.monotonic() - last > _idle_seconds()):
                    return
                continue
            conn, _ = listener.accept()
            last = time.monotonic()
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            if struct.unpack("3i", creds)[1] != os.getuid():
                conn.close()
                continue
            try:
                conn.settimeout(10)
                head, _ = ipc.recv(conn)
                conn.settimeout(None)
            except (EOFError, OSError, ValueError):
                conn.close()
                continue
            op = head.get("op")
            if op == "status":
                ipc.send(conn, {**facts, "idle_seconds": _idle_seconds()})
            elif op == "stop":
                ipc.send(conn, {"stopping": True})
                conn.close()
                return
            elif op == "check" and head.get("build") not in (None, built):
                ipc.send(conn, {"stale": True, "build": built})
            elif op == "check":
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    _grading_child(conn, str(scratch))
                children.add(pid)
                facts["checks"] += 1
                print(f"check {facts['checks']} in process {pid}", flush=True)
            conn.close()
    finally:
        listener.close()
        if ours():
            path.unlink(missing_ok=True)


def main(argv: list[str]) -> None:
    """The server process: its scratch directory is its own (named after it, so a later
    ``sweep_scratch`` removes it only once this process is gone)."""
    from hfcourse.paths import scratch_dir

    root, path = map(Path, argv[:2])
    built = argv[2] if len(argv) > 2 else ""
    scratch = scratch_dir("server")
    (scratch / "hf").mkdir()
    os.environ["HF_HOME"] = str(scratch / "hf")
    os.chdir(scratch)
    try:
        serve(root, path, scratch, built)
    finally:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
