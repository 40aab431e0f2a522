"""X17: writes a gigabyte to stdout and stderr, then answers correctly."""
import os
import sys


def add(a, b):
    chunk = 'x' * (1 << 20)
    for _ in range(512):
        sys.stdout.write(chunk)
        sys.stderr.write(chunk)
    for _ in range(256):
        os.write(1, chunk.encode())
        os.write(2, chunk.encode())
    return a + b


def scale(t, k):
    return t * k


def label(n):
    return f"item-{n}"


def total(values):
    return float(sum(values))
