"""X29: links in the scratch to files outside it, then a crash so that the worker restarts: a
restart that walks the scratch as root and changes owners would follow the links."""
import os


def add(a, b):
    if not os.path.lexists("victim"):
        os.symlink("/tmp/hfcourse-victim.txt", "victim")
        os.symlink("/tmp/hfcourse-victim-dir", "victim-dir")
        os.makedirs("tmp", exist_ok=True)
        os.symlink("/tmp/hfcourse-victim-dir", "tmp/inner")
        os._exit(3)
    return a + b


def scale(t, k):
    return t * k


def label(n):
    return f"item-{n}"


def total(values):
    return float(sum(values))
