"""X14: an endless loop, a long sleep and an ignored SIGTERM."""
import signal
import time


def add(a, b):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        pass


def scale(t, k):
    time.sleep(10**9)


def label(n):
    return f"item-{n}"


def total(values):
    return float(sum(values))
