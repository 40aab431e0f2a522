"""Remote data files: a read-only HTTP file server on 127.0.0.1 (5.2, 5.4).

``start(state_dir, root=DIR, file="")`` serves the regular files under ``root`` (a relative
``root`` is taken from the worker's scratch directory) with ``GET``, ``HEAD`` and byte
ranges, as a static file host does, and returns the base URL (or ``file``'s URL). Every request is appended to
``state_dir/requests.jsonl`` as ``{"method", "path", "range", "status", "bytes"}``
(``bytes``: body bytes actually sent), so a grader can tell which files were fetched
and how much of each was read.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from hfcourse.sandbox.launch import NO_LOOPBACK

__all__ = ["start", "read_log", "check_loopback", "serve_in_foreground", "NO_LOOPBACK"]

LOG = "requests.jsonl"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 1 << 16


class _Handler(BaseHTTPRequestHandler):
    server_version = "hfcourse-files/1"
    protocol_version = "HTTP/1.1"
    root: Path
    log: Path
    lock: threading.Lock

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        return

    def _record(self, status: int, sent: int, byte_range: str | None) -> None:
        entry = {"method": self.command, "path": urllib.parse.urlsplit(self.path).path,
                 "range": byte_range, "status": status, "bytes": sent}
        with self.lock, open(self.log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")

    def _file(self) -> Path | None:
        rel = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path).lstrip("/")
        target = (self.root / rel).resolve()
        if self.root not in target.parents or not target.is_file():
            return None
        return target

    def _error(self, status: int, byte_range: str | None, extra: dict[str, str] | None = None) -> None:
        body = json.dumps({"error": self.responses.get(status, ("",))[0]}).encode()
        self.send_response(status)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._record(status, 0, byte_range)

    def _serve(self) -> None:
        byte_range = self.headers.get("Range")
        path = self._file()
        if path is None:
            self._error(404, byte_range)
            return
        size = path.stat().st_size
        start, end, status = 0, size - 1, 200
        if byte_range:
            m = _RANGE.match(byte_range.strip())
            if not m or (not m.group(1) and not m.group(2)):
                self._error(416, byte_range, {"Content-Range": f"bytes */{size}"})
                return
            if m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            else:
                start = max(0, size - int(m.group(2)))
            if start >= size or start > end:
                self._error(416, byte_range, {"Content-Range": f"bytes */{size}"})
                return
            status = 206
        length = end - start + 1
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(length))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        sent = 0
        if self.command == "GET":
            try:
                with open(path, "rb") as fh:
                    fh.seek(start)
                    while sent < length:
                        chunk = fh.read(min(_CHUNK, length - sent))
                        if not chunk:
                            break
                        self.wfile.write(chunk)
                        sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
        self._record(status, sent, byte_range)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._serve()

    def do_HEAD(self) -> None:  # noqa: N802 - the stdlib's name
        self._serve()


def start(state_dir: Path, root: str = ".", file: str = "") -> str:
    """Serve ``root`` on 127.0.0.1 from a daemon thread; return the base URL (ending in ``/``),
    or the URL of ``file`` under it when one is named."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    handler = type("FilesHandler", (_Handler,), {
        "root": Path(root).resolve(),
        "log": state_dir / LOG,
        "lock": threading.Lock(),
    })
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    check_loopback(server)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="hfcourse-files", daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/{urllib.parse.quote(file)}"


def check_loopback(server: ThreadingHTTPServer) -> None:
    """Fail clearly when this process cannot reach its own server: in a network namespace
    whose ``lo`` interface is down, connecting to 127.0.0.1 fails with ENETUNREACH."""
    try:
        socket.create_connection(server.server_address[:2], timeout=5).close()
    except OSError as exc:
        server.server_close()
        raise OSError(exc.errno, f"{NO_LOOPBACK} (connecting to 127.0.0.1 failed: {exc.strerror}): "
                                 "the worker's network namespace needs its lo interface up") from None


def serve_in_foreground(server: ThreadingHTTPServer) -> None:
    """Serve until Ctrl-C, then close the socket (the ``serve`` commands of the stand-ins)."""
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def read_log(state_dir: Path) -> list[dict]:
    """The requests recorded so far (the grader reads them from the worker's scratch)."""
    path = Path(state_dir) / LOG
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
