"""A stand-in for the Hugging Face Hub on 127.0.0.1 (chapter 4), for the unmodified
``huggingface_hub`` client pointed at it (``HfApi(endpoint=url)`` or ``HF_ENDPOINT``).

``start(state_dir, token=None, user="student", seed={repo_id: directory})`` serves:

- ``POST /api/repos/create``; ``GET /api/whoami-v2``; ``POST /api/validate-yaml``
- ``GET /api/{type}s/{repo}`` and ``…/revision/{rev}`` (repo info with ``siblings``)
- ``GET …/tree/{rev}[/{path}]``, ``…/commits/{rev}``, ``…/refs``
- ``POST …/preupload/{rev}`` (every file "regular": no LFS), ``…/commit/{rev}`` (ndjson),
  ``…/branch/{name}``
- ``HEAD``/``GET /{repo}/resolve/{rev}/{path}`` (``/datasets/…``, ``/spaces/…`` likewise),
  with ``X-Repo-Commit``, ``ETag`` and ``Content-Length``

Errors carry ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``)
as the Hub's do. With ``token`` set, writes need ``Authorization: Bearer <token>``. Repos,
commits and branches live in ``state_dir/repos``, file contents in ``state_dir/blobs``
(by git blob sha1), so they persist across restarts; ``seed`` maps repo ids to directories
whose files become that repo's first commit (or ``{branch: directory}``). Every request is appended to
``state_dir/requests.jsonl``. The readers at the bottom are for graders.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["start", "serve_forever", "read_log", "repo_state", "read_file", "files_at", "history"]

LOG = "requests.jsonl"
TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


def git_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Store:
    """Repos as JSON documents (refs, commits with full trees) plus content-addressed blobs."""

    def __init__(self, root: Path):
        self.root, self.lock = Path(root), threading.RLock()
        (self.root / "blobs").mkdir(parents=True, exist_ok=True)

    def _doc(self, kind: str, repo_id: str) -> Path:
        return self.root / "repos" / kind / f"{repo_id}.json"

    def load(self, kind: str, repo_id: str) -> dict | None:
        path = self._doc(kind, repo_id)
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def save(self, repo: dict) -> None:
        path = self._doc(repo["type"], repo["id"])
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(repo, indent=1), encoding="utf-8")
        tmp.replace(path)

    def put(self, data: bytes) -> str:
        sha = git_sha(data)
        blob = self.root / "blobs" / sha
        if not blob.exists():
            blob.write_bytes(data)
        return sha

    def blob(self, sha: str) -> bytes:
        return (self.root / "blobs" / sha).read_bytes()

    def create(self, kind: str, repo_id: str, private: bool) -> dict:
        repo = {"id": repo_id, "type": kind, "private": private, "created": _now(), "refs": {}, "commits": {}}
        self.commit(repo, "main", "Initial commit", "", {".gitattributes": b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"})
        return repo

    def commit(self, repo: dict, branch: str, summary: str, description: str, added: dict[str, bytes],
               deleted: tuple[str, ...] = (), author: str = "student") -> str:
        parent = repo["refs"].get(branch)
        tree = dict(repo["commits"][parent]["tree"]) if parent else {}
        for path in deleted:
            tree = {p: s for p, s in tree.items() if p != path and not p.startswith(path.rstrip("/") + "/")}
        tree.update({path: self.put(data) for path, data in added.items()})
        body = json.dumps([repo["id"], parent, sorted(tree.items()), summary, description, len(repo["commits"])])
        sha = hashlib.sha1(body.encode()).hexdigest()
        repo["commits"][sha] = {"parent": parent, "summary": summary, "description": description, "tree": tree,
                                "date": _now(), "author": author, "branch": branch}
        repo["refs"][branch] = sha
        self.save(repo)
        return sha

    def resolve(self, repo: dict, revision: str) -> str:
        revision = revision.removeprefix("refs/heads/")
        if revision in repo["refs"]:
            return repo["refs"][revision]
        if revision in repo["commits"]:
            return revision
        raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")


class _Handler(BaseHTTPRequestHandler):
    server_version = "hfcourse-hub/1"
    protocol_version = "HTTP/1.1"
    store: Store
    token: str | None
    user: str

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        return

    # -- plumbing ---------------------------------------------------------------------------
    def _who(self) -> str:
        scheme, _, value = self.headers.get("Authorization", "").partition(" ")
        if not value:
            return "anonymous"
        return "token" if scheme.lower() == "bearer" and (self.token is None or value.strip() == self.token) else "bad"

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if raw is None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.entry["status"] = status

    def _json(self) -> Any:
        if self.headers.get("Content-Type", "").startswith("application/x-ndjson"):
            return [json.loads(line) for line in self.body.splitlines() if line.strip()]
        return json.loads(self.body or b"{}")

    def _handle(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        parts = [urllib.parse.unquote(p) for p in url.path.split("/")[1:]]
        query = dict(urllib.parse.parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        self.entry: dict[str, Any] = {"t": _now(), "method": self.command, "path": url.path, "query": query,
                                      "auth": self._who(), "status": None}
        try:
            if self.entry["auth"] == "bad":
                raise HubError(401, "Invalid credentials in Authorization header")
            with self.store.lock:
                self._route(parts, query)
        except HubError as err:
            headers = {"X-Error-Message": err.message, **({"X-Error-Code": err.code} if err.code else {}), **err.headers}
            self._send(err.status, {"error": err.message}, headers)
        except (ValueError, KeyError, TypeError) as err:
            self._send(400, {"error": f"bad request: {err}"})
        with self.store.lock, open(self.store.root / LOG, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(self.entry) + "\n")

    do_GET = do_HEAD = do_POST = _handle  # noqa: N815 - the stdlib's names

    def _base(self) -> str:
        return f"http://{self.headers.get('Host', '127.0.0.1')}"

    def _writer(self) -> str:
        if self.entry["auth"] != "token" and self.token is not None:
            raise HubError(401, "You must be authenticated with a write token (pass token=...)")
        return self.user

    def _repo(self, kind: str, repo_id: str) -> dict:
        self.entry["repo"] = repo_id
        repo = self.store.load(kind, repo_id)
        if repo is None or (repo["private"] and self.entry["auth"] != "token"):
            raise HubError(404, f"Repository not found: {repo_id}", "RepoNotFound")
        return repo

    # -- routes -----------------------------------------------------------------------------
    def _route(self, parts: list[str], query: dict[str, str]) -> None:
        method = self.command
        if parts[:1] == ["api"] and len(parts) >= 2:
            if parts[1:] == ["whoami-v2"] and method == "GET":
                return self._whoami()
            if parts[1:] == ["repos", "create"] and method == "POST":
                return self._create()
            if parts[1:] == ["validate-yaml"] and method == "POST":
                return self._validate()
            if parts[1] in TYPES and len(parts) >= 4:
                return self._api(TYPES[parts[1]], f"{parts[2]}/{parts[3]}", parts[4:], query)
        if method in ("GET", "HEAD"):
            kind = TYPES.get(parts[0]) if parts[0] in ("datasets", "spaces") else "model"
            rest = parts[1:] if kind != "model" else parts
            if len(rest) >= 5 and rest[2] == "resolve":
                return self._resolve(kind, f"{rest[0]}/{rest[1]}", rest[3], "/".join(rest[4:]))
        raise HubError(404, f"no such endpoint: {method} {self.entry['path']}")

    def _whoami(self) -> None:
        if self.entry["auth"] != "token":
            raise HubError(401, "Invalid credentials in Authorization header")
        self._send(200, {"type": "user", "name": self.user, "fullname": self.user, "orgs": [],
                         "auth": {"type": "access_token", "accessToken": {"displayName": "course", "role": "write"}}})

    def _create(self) -> None:
        body, user = self._json(), self._writer()
        kind = body.get("type") or "model"
        repo_id = f"{body.get('organization') or user}/{body['name']}"
        self.entry.update(op="create", repo=repo_id)
        url = self._base() + ("" if kind == "model" else f"/{kind}s") + f"/{repo_id}"
        if self.store.load(kind, repo_id) is not None:
            raise_body = {"error": "You already created this model repo", "url": url}
            self._send(409, raise_body, {"X-Error-Message": raise_body["error"]})
            return
        self.store.create(kind, repo_id, bool(body.get("private")) or body.get("visibility") == "private")
        self._send(200, {"url": url, "name": repo_id, "id": repo_id})

    def _validate(self) -> None:
        import yaml

        content = self._json().get("content", "")
        if content.startswith("---"):
            try:
                yaml.safe_load(content.split("---", 2)[1])
            except yaml.YAMLError as err:
                self._send(400, {"errors": [{"message": str(err).splitlines()[0]}], "warnings": []})
                return
        self._send(200, {"errors": [], "warnings": []})

    def _api(self, kind: str, repo_id: str, rest: list[str], query: dict[str, str]) -> None:
        repo = self._repo(kind, repo_id)
        op = rest[0] if rest else "info"
        if self.command == "POST":
            self._writer()
            if op == "preupload" and len(rest) == 2:
                return self._preupload(repo, rest[1])
            if op == "commit" and len(rest) == 2:
                return self._commit(repo, rest[1], query)
            if op == "branch" and len(rest) == 2:
                return self._branch(repo, rest[1])
        elif op in ("info", "revision"):
            return self._info(repo, rest[1] if len(rest) > 1 else "main")
        elif op == "tree" and len(rest) >= 2:
            return self._tree(repo, rest[1], "/".join(rest[2:]).strip("/"), query.get("recursive") in ("1", "true", "True"))
        elif op == "commits" and len(rest) == 2:
            return self._send(200, history(repo, self.store.resolve(repo, rest[1])))
        elif op == "refs" and len(rest) == 1:
            branches = [{"name": b, "ref": f"refs/heads/{b}", "targetCommit": s} for b, s in sorted(repo["refs"].items())]
            return self._send(200, {"branches": branches, "tags": [], "converts": [], "pullRequests": []})
        raise HubError(404, f"no such endpoint: {self.command} {self.entry['path']}")

    def _info(self, repo: dict, revision: str) -> None:
        sha = self.store.resolve(repo, revision)
        tree = repo["commits"][sha]["tree"]
        self._send(200, {"id": repo["id"], "modelId": repo["id"], "author": repo["id"].split("/")[0], "sha": sha,
                         "private": repo["private"], "createdAt": repo["created"],
                         "lastModified": repo["commits"][sha]["date"], "tags": [], "downloads": 0, "likes": 0,
                         "siblings": [{"rfilename": p, "size": len(self.store.blob(s))} for p, s in sorted(tree.items())]})

    def _tree(self, repo: dict, revision: str, path: str, recursive: bool) -> None:
        tree = repo["commits"][self.store.resolve(repo, revision)]["tree"]
        prefix = f"{path}/" if path else ""
        under = {p[len(prefix):]: s for p, s in tree.items() if p.startswith(prefix)}
        if path and not under:
            raise HubError(404, f"{path} does not exist on {revision}", "EntryNotFound")
        entries: dict[str, dict] = {}
        for rel, sha in sorted(under.items()):
            dirs = rel.split("/")[:-1]
            for depth in range(1, len(dirs) + 1 if recursive else min(1, len(dirs)) + 1):
                sub = prefix + "/".join(dirs[:depth])
                entries.setdefault(sub, {"type": "directory", "oid": hashlib.sha1(sub.encode()).hexdigest(), "path": sub})
            if recursive or not dirs:
                entries[prefix + rel] = {"type": "file", "oid": sha, "size": len(self.store.blob(sha)), "path": prefix + rel}
        self._send(200, list(entries.values()))

    def _preupload(self, repo: dict, revision: str) -> None:
        tree = repo["commits"][self.store.resolve(repo, revision)]["tree"]
        files = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": tree.get(f["path"])}
                 for f in self._json()["files"]]
        self._send(200, {"files": files, "commitOid": self.store.resolve(repo, revision)})

    def _commit(self, repo: dict, revision: str, query: dict[str, str]) -> None:
        if query.get("create_pr"):
            raise HubError(400, "pull requests are not supported by the course Hub")
        lines = self._json()
        header = next((x["value"] for x in lines if x.get("key") == "header"), None)
        if header is None or not header.get("summary"):
            raise HubError(400, "the commit has no header with a summary")
        branch = revision.removeprefix("refs/heads/")
        head = self.store.resolve(repo, branch)
        if branch not in repo["refs"]:
            raise HubError(400, f"{revision} is not a branch: commits go to a branch", "RevisionNotFound")
        if header.get("parentCommit") and header["parentCommit"] != head:
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        added, deleted = {}, []
        for item in lines:
            key, value = item.get("key"), item.get("value", {})
            if key == "file":
                added[value["path"]] = base64.b64decode(value["content"])
            elif key in ("deletedFile", "deletedFolder"):
                deleted.append(value["path"])
            elif key != "header":
                raise HubError(400, f"unsupported commit operation {key!r} (the course Hub takes regular files only)")
        sha = self.store.commit(repo, branch, header["summary"], header.get("description", ""), added, tuple(deleted))
        self.entry.update(op="commit", revision=branch, summary=header["summary"], commit=sha,
                          files=sorted(added), deleted=deleted)
        url = self._base() + ("" if repo["type"] == "model" else f"/{repo['type']}s") + f"/{repo['id']}/commit/{sha}"
        self._send(200, {"commitUrl": url, "commitOid": sha, "success": True, "pullRequestUrl": None})

    def _branch(self, repo: dict, branch: str) -> None:
        start = self._json().get("startingPoint") or "main"
        if branch in repo["refs"]:
            raise HubError(409, f"Reference already exists: refs/heads/{branch}")
        repo["refs"][branch] = self.store.resolve(repo, start)
        self.store.save(repo)
        self.entry.update(op="branch", revision=branch)
        self._send(200, {})

    def _resolve(self, kind: str, repo_id: str, revision: str, path: str) -> None:
        repo = self._repo(kind, repo_id)
        sha = self.store.resolve(repo, revision)
        self.entry.update(op="download", revision=revision, file=path)
        blob = repo["commits"][sha]["tree"].get(path)
        if blob is None:
            raise HubError(404, f"Entry not found: {path} on {revision}", "EntryNotFound", {"X-Repo-Commit": sha})
        data = self.store.blob(blob)
        self._send(200, headers={"X-Repo-Commit": sha, "ETag": f'"{blob}"', "Content-Type": "application/octet-stream",
                                 "Accept-Ranges": "none"}, raw=data)


def _seed(store: Store, seed: dict[str, Any]) -> None:
    """``{repo_id: directory}`` or ``{repo_id: {branch: directory}}``: each directory's files (not
    ``fixture.json``) become one commit; branches other than ``main`` start from ``main``."""
    for repo_id, spec in sorted(seed.items()):
        if store.load("model", repo_id) is not None:
            continue
        repo = store.create("model", repo_id, private=False)
        branches = {"main": spec} if isinstance(spec, str) else dict(spec)
        for branch in sorted(branches, key=lambda b: b != "main"):
            directory = Path(branches[branch])
            files = {f.relative_to(directory).as_posix(): f.read_bytes()
                     for f in sorted(directory.rglob("*")) if f.is_file() and f.name != "fixture.json"}
            repo["refs"].setdefault(branch, repo["refs"]["main"])
            store.commit(repo, branch, "Upload model and tokenizer" if branch == "main" else f"Upload {branch}", "",
                         files, author=repo_id.split("/")[0])


def _server(state_dir: Path, token: str | None, user: str, seed: dict[str, str] | None, port: int) -> ThreadingHTTPServer:
    store = Store(Path(state_dir))
    _seed(store, dict(seed or {}))
    handler = type("HubHandler", (_Handler,), {"store": store, "token": token, "user": user})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def start(state_dir: Path, token: str | None = None, user: str = "student", seed: dict[str, str] | None = None,
          port: int = 0) -> str:
    """Serve from a daemon thread; return the endpoint URL (no trailing ``/``)."""
    server = _server(state_dir, token, user, seed, port)
    threading.Thread(target=server.serve_forever, name="hfcourse-hub", daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def serve_forever(state_dir: Path, port: int = 0, **options: Any) -> None:
    """Serve in the foreground until interrupted (``hfcourse hub serve``)."""
    from hfcourse.services.files import serve_in_foreground

    server = _server(state_dir, port=port, token=options.get("token"), user=options.get("user", "student"),
                     seed=options.get("seed"))
    print(f"Hub stand-in on http://127.0.0.1:{server.server_address[1]} (state in {state_dir}); "
          f"point the client at it with HF_ENDPOINT=http://127.0.0.1:{server.server_address[1]}", flush=True)
    serve_in_foreground(server)


# -- readers for graders ------------------------------------------------------------------------
def read_log(state_dir: Path) -> list[dict]:
    path = Path(state_dir) / LOG
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def repo_state(state_dir: Path, repo_id: str, kind: str = "model") -> dict | None:
    """The stored repo document: ``refs`` (branch → sha) and ``commits`` (sha → summary, tree, parent)."""
    return Store(Path(state_dir)).load(kind, repo_id)


def files_at(state_dir: Path, repo_id: str, revision: str = "main", kind: str = "model") -> dict[str, str]:
    """Path → blob sha of the repo's files at ``revision`` ({} if the repo or revision is missing)."""
    store = Store(Path(state_dir))
    repo = store.load(kind, repo_id)
    try:
        return dict(repo["commits"][store.resolve(repo, revision)]["tree"]) if repo else {}
    except HubError:
        return {}


def read_file(state_dir: Path, blob: str) -> bytes:
    return Store(Path(state_dir)).blob(blob)


def history(repo: dict, sha: str) -> list[dict]:
    """The commits reachable from ``sha``, newest first, as ``GET …/commits/{rev}`` lists them."""
    out = []
    while sha:
        c = repo["commits"][sha]
        out.append({"id": sha, "title": c["summary"], "message": c["description"], "date": c["date"],
                    "authors": [{"user": c["author"]}]})
        sha = c["parent"]
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m hfcourse.services.hub [--dir D] [--port P] [--token T] [--seed-fixtures]``."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m hfcourse.services.hub", description="Serve the course's Hub stand-in.")
    p.add_argument("--dir", default=".hfcourse-hub", help="where repos and the request log are kept (default: %(default)s)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    p.add_argument("--token", default=None, help="require this token for writes (default: none needed)")
    p.add_argument("--seed-fixtures", action="store_true", help="serve the chapter 4 fixture models under their ids")
    args = p.parse_args(argv)
    seed = None
    if args.seed_fixtures:
        from hfcourse import fixtures
        from hfcourse.fixtures.build_ch4 import hub_seed

        seed = hub_seed(fixtures.path)
    serve_forever(Path(args.dir), port=args.port, token=args.token, seed=seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
