"""X35: memory that the address-space limit does not see: anonymous files (memfd_create) grown with
ftruncate and fallocate, by the worker and by a forked child of it; /dev/shm and /tmp filled."""
import os


def _memfd_bomb(fd=None):
    while True:  # each file stays under the file-size limit; together they pass the memory limit
        fd = os.memfd_create("bomb") if fd is None else fd
        os.ftruncate(fd, 128 << 20)
        os.posix_fallocate(fd, 0, 128 << 20)
        fd = None


def add(a, b):
    _memfd_bomb()


def scale(t, k):
    pid = os.fork()
    if pid == 0:
        try:
            _memfd_bomb()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    _memfd_bomb()


def label(n):
    for folder in ("/dev/shm", "/tmp"):
        path = os.path.join(folder, "filler.bin")
        try:
            with open(path, "wb") as fh:
                while True:
                    fh.write(bytes(1 << 20))
        except OSError:
            pass
        finally:
            os.unlink(path)
    return f"item-{n}"


def total(values):
    return float(sum(values))
