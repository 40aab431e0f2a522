"""X36: new namespaces (clone and clone3 with CLONE_NEW* flags, unshare, setns), io_uring (whose
requests seccomp cannot see), and the host paths in /proc/self/mountinfo (the 4th field of a bind
mount is the tree's path in its own file system)."""
import ctypes
import os
import signal

_NR = {"x86_64": {"clone": 56, "clone3": 435, "unshare": 272, "setns": 308, "io_uring_setup": 425},
       "aarch64": {"clone": 220, "clone3": 435, "unshare": 97, "setns": 268, "io_uring_setup": 425}}[os.uname().machine]
_NEWNS, _NEWUSER, _NEWNET = 0x20000, 0x10000000, 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _forked(pid):
    if pid == 0:
        os._exit(0)
    if pid > 0:
        os.waitpid(pid, 0)
    return pid > 0


def _attempts():
    args = (ctypes.c_uint64 * 8)(_NEWUSER | _NEWNS, 0, 0, 0, signal.SIGCHLD, 0, 0, 0)
    params = ctypes.create_string_buffer(120)
    ns = os.open("/proc/self/ns/net", os.O_RDONLY)
    tries = {
        "clone(CLONE_NEWUSER)": lambda: _forked(_libc.syscall(_NR["clone"], _NEWUSER | signal.SIGCHLD, 0, 0, 0, 0)),
        "clone(CLONE_NEWNET)": lambda: _forked(_libc.syscall(_NR["clone"], _NEWNET | signal.SIGCHLD, 0, 0, 0, 0)),
        "clone3(CLONE_NEWUSER)": lambda: _forked(_libc.syscall(_NR["clone3"], ctypes.byref(args), 64)),
        "unshare(CLONE_NEWUSER)": lambda: _libc.syscall(_NR["unshare"], _NEWUSER) == 0,
        "setns(net)": lambda: _libc.syscall(_NR["setns"], ns, 0) == 0,
        "io_uring_setup": lambda: _libc.syscall(_NR["io_uring_setup"], 4, params) >= 0,
    }
    return [name for name, attempt in tries.items() if attempt()]


def _mount_roots():
    with open("/proc/self/mountinfo") as fh:
        return sorted({line.split()[3] for line in fh} - {"/"})


def add(a, b):
    raise RuntimeError("mount roots: " + " ".join(_mount_roots()))


def scale(t, k):
    escaped = _attempts()
    print("escaped:", escaped)
    return t * k + (1 if escaped else 0)


def label(n):
    roots = [r for r in _mount_roots() if not r.startswith("/dev") and r not in ("/null", "/zero", "/full", "/random", "/urandom", "/tty")]
    return roots[0] if roots else f"item-{n}?"


def total(values):
    return float(sum(values))
