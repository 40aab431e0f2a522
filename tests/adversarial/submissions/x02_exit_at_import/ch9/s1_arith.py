"""X02: sys.exit(0) while the module is imported."""
import sys
sys.exit(0)


def add(a, b):
    return a + b


def scale(t, k):
    return t * k


def label(n):
    return f"item-{n}"


def total(values):
    return float(sum(values))
