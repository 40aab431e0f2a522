"""Level-1/2 isolation of a worker (Linux as root; skipped with the reason elsewhere)."""

from __future__ import annotations

import textwrap

import pytest

from hfcourse.sandbox.client import WorkerProcess
from hfcourse.sandbox.levels import plan

pytestmark = pytest.mark.skipif(not plan().jail, reason=f"sandbox level L1 unavailable: {plan().inactive.get('L1')}")

MODULE = textwrap.dedent('''
    import ctypes, os, socket
    def facts():
        status = open("/proc/self/status").read()
        return {"uid": os.getuid(), "groups": os.getgroups(), "pids": sorted(p for p in os.listdir("/proc") if p.isdigit()),
                "root": sorted(os.listdir("/")), "seccomp": status.split("Seccomp:")[1].split()[0]}
    def exists(path): return os.path.exists(path)
    def write(path):
        try:
            open(path, "w").write("x"); return "written"
        except OSError as exc: return type(exc).__name__
    def connect():
        try:
            socket.create_connection(("1.1.1.1", 80), timeout=2); return "connected"
        except OSError as exc: return exc.errno
    def serve_and_fetch():
        import http.server, threading, urllib.request
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        return urllib.request.urlopen(f"http://127.0.0.1:{srv.server_address[1]}/", timeout=10).status
    def ptrace():
        libc = ctypes.CDLL(None, use_errno=True)
        return [libc.ptrace(16, 1, 0, 0), ctypes.get_errno()]
''')


@pytest.fixture(scope="module", params=["process", "zygote"])
def jailed(request, tmp_path_factory):
    """A jailed worker per start mode: exec'd through unshare, or forked and jailed in place."""
    folder = tmp_path_factory.mktemp("jailed")
    (folder / "m.py").write_text(MODULE)
    folder.chmod(0o755)
    zygote = request.getfixturevalue("zygote") if request.param == "zygote" else None
    worker = WorkerProcess("jail-test", jail=True, readable=(str(folder),), preload=(), zygote=zygote)
    worker.load(folder / "m.py", "m", timeout=60)
    assert worker.load_error is None, worker.output_log()
    yield worker
    worker.close()


def call(worker, fn, *args):
    return worker.call(fn, args, {}, timeout=30).value


def test_unprivileged_uid_alone_in_its_pid_namespace(jailed):
    facts = call(jailed, "facts")
    assert facts["uid"] >= 200_000 and facts["groups"] == []
    assert facts["pids"] == ["1"]


def test_only_the_allow_listed_filesystem_is_there(jailed):
    from helpers import ROOT

    assert {"home", "var", "srv", "opt"}.isdisjoint(call(jailed, "facts")["root"])
    for hidden in (ROOT / "graders", ROOT / "solutions", ROOT / ".git", ROOT / "tests"):
        assert call(jailed, "exists", str(hidden)) is False, hidden
    assert call(jailed, "write", str(ROOT / "src" / "owned.py")) == "OSError"
    assert call(jailed, "write", "/etc/owned") in ("OSError", "PermissionError")
    assert call(jailed, "write", str(jailed.scratch / "ok.txt")) == "written"


def test_no_network_but_loopback_for_stand_in_servers(jailed):
    assert call(jailed, "connect") == 101
    assert call(jailed, "serve_and_fetch") == 200


def test_directories_made_for_the_worker_are_writable_by_it(jailed):
    folder = jailed.make_dir("service-x/state")
    assert call(jailed, "write", str(folder / "log.jsonl")) == "written"


@pytest.mark.skipif(not plan().seccomp, reason="seccomp filter unavailable on this machine")
def test_seccomp_denies_ptrace(jailed):
    assert call(jailed, "facts")["seccomp"] == "2"
    assert call(jailed, "ptrace") == [-1, 1]


@pytest.mark.skipif(not plan().cgroups, reason="cgroups unavailable on this machine")
def test_cgroups_are_removed_with_the_worker(tmp_path, start_mode):
    from hfcourse.sandbox.confine import cgroup_dirs

    (tmp_path / "m.py").write_text(MODULE)
    tmp_path.chmod(0o755)
    worker = WorkerProcess("cg-test", jail=True, readable=(str(tmp_path),), preload=(), zygote=start_mode)
    worker.load(tmp_path / "m.py", "m", timeout=60)
    dirs = cgroup_dirs(worker._cgroup)
    assert dirs and all(p.is_dir() for p in dirs.values())
    worker.close()
    assert not any(p.exists() for p in dirs.values())
