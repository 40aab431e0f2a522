"""Level-1/2 isolation of a worker (Linux as root; skipped with the reason elsewhere)."""

from __future__ import annotations

import textwrap

import pytest

from hfcourse.sandbox.client import StudentError, WorkerProcess
from hfcourse.sandbox.levels import plan

pytestmark = pytest.mark.skipif(not plan().jail, reason=f"sandbox level L1 unavailable: {plan().inactive.get('L1')}")

MODULE = textwrap.dedent('''
    import ctypes, os, socket
    def facts():
        status = open("/proc/self/status").read()
        return {"uid": os.getuid(), "groups": os.getgroups(), "pids": sorted(p for p in os.listdir("/proc") if p.isdigit()),
                "root": sorted(os.listdir("/")), "seccomp": status.split("Seccomp:")[1].split()[0]}
    def exists(path): return os.path.exists(path)
    def read(path): return open(path).read()
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
    def die(): os._exit(3)
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


def test_a_worker_keeps_its_uid_across_restarts(jailed):
    uid = call(jailed, "facts")["uid"]
    assert uid == jailed.uid
    with pytest.raises(StudentError):
        jailed.call("die", (), {}, timeout=30)
    assert call(jailed, "facts")["uid"] == uid == jailed.uid


def test_mountinfo_names_no_tree_by_its_host_path(jailed):
    roots = {line.split()[3] for line in call(jailed, "read", "/proc/self/mountinfo").splitlines()}
    system = {"/", "/usr", "/etc", "/bin", "/lib", "/lib64", "/lib32", "/sbin", str(jailed.scratch)}
    devices = {"/null", "/zero", "/full", "/random", "/urandom", "/tty"}
    assert roots <= system | devices, roots - system - devices


@pytest.mark.skipif(not plan().seccomp, reason=f"seccomp unavailable: {plan().inactive.get('seccomp')}")
def test_seccomp_denies_ptrace(jailed):
    assert call(jailed, "facts")["seccomp"] == "2"
    assert call(jailed, "ptrace") == [-1, 1]


@pytest.mark.skipif(not plan().cgroups, reason=f"cgroups unavailable: {plan().inactive.get('cgroups')}")
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


SECCOMP_PROBE = textwrap.dedent('''
    import ctypes, json, os, signal, subprocess, threading
    from hfcourse.sandbox import confine
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    assert libc.prctl(38, 1, 0, 0, 0) == 0  # no_new_privs, as the jail sets it
    confine.install_seccomp()
    nr = {"x86_64": (56, 435, 272, 425), "aarch64": (220, 435, 97, 425)}[os.uname().machine]
    def call(*args):
        got = libc.syscall(*args)
        if got == 0:
            os._exit(0)  # the child of a clone that worked
        if got > 0 and args[0] != nr[3]:
            os.waitpid(got, 0)
        return "ok" if got >= 0 else os.strerror(ctypes.get_errno())
    clone_args = (ctypes.c_uint64 * 8)(0x10000000, 0, 0, 0, signal.SIGCHLD, 0, 0, 0)
    out = {"clone NEWUSER": call(nr[0], 0x10000000 | signal.SIGCHLD, 0, 0, 0, 0),
           "clone NEWNET": call(nr[0], 0x40000000 | signal.SIGCHLD, 0, 0, 0, 0),
           "clone plain": call(nr[0], signal.SIGCHLD, 0, 0, 0, 0),
           "clone3": call(nr[1], ctypes.byref(clone_args), 64),
           "unshare": call(nr[2], 0x10000000),
           "io_uring_setup": call(nr[3], 4, ctypes.create_string_buffer(120))}
    box = []
    t = threading.Thread(target=box.append, args=("thread",)); t.start(); t.join()
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    out["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    out["thread"] = box
    out["spawn"] = subprocess.run(["true"]).returncode
    import torch
    torch.set_num_threads(2)
    out["torch"] = float((torch.ones(256, 256) @ torch.ones(256, 256)).sum())
    print(json.dumps(out))
''')


@pytest.mark.skipif(not plan().seccomp, reason=f"seccomp unavailable: {plan().inactive.get('seccomp')}")
def test_seccomp_denies_namespaces_and_io_uring_but_not_threads_fork_or_torch(tmp_path):
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", SECCOMP_PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.splitlines()[-1])
    eperm, enosys = "Operation not permitted", "Function not implemented"
    assert out == {"clone NEWUSER": eperm, "clone NEWNET": eperm, "clone plain": "ok", "clone3": enosys,
                   "unshare": eperm, "io_uring_setup": eperm, "fork": 7, "thread": ["thread"], "spawn": 0,
                   "torch": 256.0 ** 3}


MEMORY_BOMBS = textwrap.dedent('''
    import os
    def memfds():
        while True:  # files under the file-size limit, together past the memory limit
            fd = os.memfd_create("bomb")
            os.ftruncate(fd, 64 << 20)
            os.posix_fallocate(fd, 0, 64 << 20)
    def forked():
        pid = os.fork()
        if pid == 0:
            memfds()
        os.waitpid(pid, 0)
        memfds()
    def shm():
        with open("/dev/shm/filler", "wb") as fh:
            while True:
                fh.write(bytes(1 << 20))
''')


@pytest.mark.skipif(not plan().cgroups, reason=f"cgroups unavailable: {plan().inactive.get('cgroups')}")
def test_a_kill_at_the_memory_limit_is_memory_by_any_route(tmp_path, start_mode):
    from hfcourse.sandbox.limits import Limits

    (tmp_path / "m.py").write_text(MEMORY_BOMBS)
    tmp_path.chmod(0o755)
    worker = WorkerProcess("mem-test", jail=True, readable=(str(tmp_path),), preload=(), zygote=start_mode,
                           limits=Limits(memory_bytes=1 << 30))
    try:
        worker.load(tmp_path / "m.py", "m", timeout=60)
        for fn in ("memfds", "forked"):
            with pytest.raises(StudentError) as err:
                worker.call(fn, (), {}, timeout=120)
            assert err.value.category == "MEMORY", (fn, err.value.category, err.value.message)
            assert "memory limit of 1.0 GiB" in err.value.message
        with pytest.raises(StudentError) as err:  # the private /dev/shm is a 64 MiB tmpfs: full long before
            worker.call("shm", (), {}, timeout=120)
        assert err.value.category in ("DISK", "EXCEPTION"), (err.value.category, err.value.message)
    finally:
        worker.close()
