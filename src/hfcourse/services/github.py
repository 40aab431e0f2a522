"""A stand-in for the GitHub REST API's issues endpoints on 127.0.0.1 (5.5).

``start(state_dir, seed=…, num_issues=…, token=…, rate_limit=…, window=…)`` serves
the issues of ``hfcourse.fixtures.build_ch5.github_issues(seed, num_issues, owner, repo)``:

- ``GET /repos/{owner}/{repo}/issues?state=&per_page=&page=``: newest first, pull requests
  included (they carry a ``pull_request`` key); ``state`` defaults to ``open``;
  ``per_page`` defaults to 30, at most 100; pages start at 1, and like GitHub, ``page=0``
  is served as page 1. A ``Link`` header names the next and last pages.
- ``GET /repos/{owner}/{repo}/issues/{number}/comments?per_page=&page=``: paged the same way.
- ``GET /rate_limit``: the caller's quota (not counted).

Every response has ``X-RateLimit-Limit/-Remaining/-Used/-Reset`` (reset: epoch seconds).
When a token is set, requests carrying ``Authorization: token <token>`` (or ``Bearer``)
get ``rate_limit`` requests per ``window`` seconds and anonymous ones ``anonymous_limit``;
a wrong token gets 401. Over the quota, the answer is 403 ``API rate limit exceeded``.
Each request is appended to ``state_dir/requests.jsonl`` before it is answered.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["start", "read_log"]

LOG = "requests.jsonl"
_ISSUES = re.compile(r"^/repos/([^/]+)/([^/]+)/issues$")
_COMMENTS = re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$")


class _Quota:
    def __init__(self, limit: int, window: float):
        self.limit, self.window = limit, window
        self.used, self.reset = 0, 0

    def take(self, now: float) -> bool:
        if now >= self.reset:
            self.used, self.reset = 0, math.ceil(now + self.window)
        if self.used >= self.limit:
            return False
        self.used += 1
        return True

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.limit - self.used),
                "X-RateLimit-Used": str(self.used), "X-RateLimit-Reset": str(self.reset),
                "X-RateLimit-Resource": "core"}


class _State:
    def __init__(self, state_dir: Path, issues: list[tuple[dict, list[dict]]], owner: str, repo: str,
                 token: str | None, rate_limit: int, window: float, anonymous_limit: int):
        self.log = state_dir / LOG
        self.lock = threading.Lock()
        self.owner, self.repo, self.token = owner, repo, token
        self.issues = [i for i, _ in issues]
        self.comments = {i["number"]: c for i, c in issues}
        self.quotas = {"token": _Quota(rate_limit, window), "anonymous": _Quota(anonymous_limit, window)}


def _page(items: list, query: dict[str, str]) -> tuple[list, int, int, int]:
    def number(key: str, default: int) -> int:
        try:
            return int(query.get(key, default))
        except ValueError:
            return default

    per_page = min(max(number("per_page", 30), 1), 100)
    page = max(number("page", 1), 1)
    last = max(1, math.ceil(len(items) / per_page))
    return items[(page - 1) * per_page: page * per_page], page, per_page, last


class _Handler(BaseHTTPRequestHandler):
    server_version = "hfcourse-github/1"
    protocol_version = "HTTP/1.1"
    state: _State

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        return

    def _auth(self) -> str:
        header = self.headers.get("Authorization", "")
        if self.state.token is None:
            return "token"
        scheme, _, value = header.partition(" ")
        if not header:
            return "anonymous"
        return "token" if scheme.lower() in ("token", "bearer") and value.strip() == self.state.token else "bad"

    def _send(self, status: int, body: Any, headers: dict[str, str], entry: dict) -> None:
        entry.update(status=status, remaining=headers.get("X-RateLimit-Remaining"))
        with self.state.lock, open(self.state.log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
        data = json.dumps(body).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _link(self, path: str, query: dict[str, str], page: int, last: int) -> str:
        base = f"http://{self.headers.get('Host', '127.0.0.1')}{path}"
        rels = {"prev": page - 1, "next": page + 1, "last": last, "first": 1}
        parts = [f'<{base}?{urllib.parse.urlencode({**query, "page": p})}>; rel="{rel}"'
                 for rel, p in rels.items() if 1 <= p <= last and p != page]
        return ", ".join(parts)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        who = self._auth()
        entry = {"t": time.time(), "method": "GET", "path": url.path, "query": query, "auth": who}
        st = self.state
        if who == "bad":
            self._send(401, {"message": "Bad credentials"}, {}, entry)
            return
        quota = st.quotas[who]
        if url.path == "/rate_limit":
            core = {"limit": quota.limit, "remaining": quota.limit - quota.used, "used": quota.used, "reset": quota.reset}
            self._send(200, {"resources": {"core": core}, "rate": core}, quota.headers(), entry)
            return
        with st.lock:
            allowed = quota.take(time.time())
            headers = quota.headers()
        if not allowed:
            self._send(403, {"message": "API rate limit exceeded", "documentation_url":
                             "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"},
                       headers, entry)
            return
        issues, comments = _ISSUES.match(url.path), _COMMENTS.match(url.path)
        match = issues or comments
        if not match or (match.group(1), match.group(2)) != (st.owner, st.repo):
            self._send(404, {"message": "Not Found"}, headers, entry)
            return
        if issues:
            state = query.get("state", "open")
            items = [i for i in st.issues if state == "all" or i["state"] == state]
        else:
            number = int(comments.group(3))
            if number not in st.comments:
                self._send(404, {"message": "Not Found"}, headers, entry)
                return
            items = st.comments[number]
        chunk, page, _, last = _page(items, query)
        link = self._link(url.path, query, page, last)
        self._send(200, chunk, {**headers, **({"Link": link} if link else {})}, entry)


def lengthen_threads(issues: list[tuple[dict, list[dict]]], more: int) -> list[tuple[dict, list[dict]]]:
    """``issues`` with ``more`` comments added to every thread of over 30 comments: follow-ups that
    quote the thread's comments in turn, with their own ids, times and bodies."""
    if more <= 0:
        return issues
    out = []
    for issue, comments in issues:
        if len(comments) > 30:
            comments = comments + [{**c, "id": c["id"] + 10_000 * (k + 1), "body": f"Following up ({k + 1}): {c['body']}",
                                    "html_url": f"{issue['html_url']}#issuecomment-{c['id'] + 10_000 * (k + 1)}"}
                                   for k, c in ((k, comments[k % len(comments)]) for k in range(more))]
            issue = {**issue, "comments": len(comments)}
        out.append((issue, comments))
    return out


def start(state_dir: Path, seed: int = 0, num_issues: int = 120, owner: str = "huggingface",
          repo: str = "datasets", token: str | None = None, rate_limit: int = 5000, window: float = 3600.0,
          anonymous_limit: int = 60, long_threads: int = 0) -> str:
    """Serve the generated repository from a daemon thread; return the API base URL (no trailing ``/``).
    ``long_threads``: comments added to every long thread (more than 100 needs two pages at most per page)."""
    from hfcourse.fixtures.build_ch5 import github_issues
    from hfcourse.services.files import check_loopback

    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    issues = lengthen_threads(github_issues(seed, num_issues, owner, repo), long_threads)
    state = _State(state_dir, issues, owner, repo, token,
                   rate_limit, window, anonymous_limit)
    handler = type("GitHubHandler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    check_loopback(server)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="hfcourse-github", daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def read_log(state_dir: Path) -> list[dict]:
    """The requests recorded so far."""
    path = Path(state_dir) / LOG
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
