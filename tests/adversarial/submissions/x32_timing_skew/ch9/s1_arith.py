"""X32: a slow total (SLOW on its own), plus busy processes forked at import and a busy thread,
all paused while total runs and busy while anything else runs: the reference, measured on the
same core, would be slowed and the ratio pushed over the threshold."""
import os
import signal
import threading

CHILDREN = []
BUSY = threading.Event()
BUSY.set()
for _ in range(8):
    pid = os.fork()
    if pid == 0:
        while True:
            pass
    CHILDREN.append(pid)


def _spin():
    while True:
        BUSY.wait()
        x = 0
        for _ in range(10000):
            x += 1


threading.Thread(target=_spin, daemon=True).start()


def add(a, b):
    return a + b


def scale(t, k):
    return t * k


def label(n):
    return f"item-{n}"


def total(values):
    BUSY.clear()
    for pid in CHILDREN:
        try:
            os.kill(pid, signal.SIGSTOP)
        except OSError:
            pass
    x = 0
    for _ in range(170000):
        x += 1
    result = float(sum(values))
    for pid in CHILDREN:
        try:
            os.kill(pid, signal.SIGCONT)
        except OSError:
            pass
    BUSY.set()
    return result
