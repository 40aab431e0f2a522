"""X03: os._exit(0) inside a call."""
import os


def add(a, b):
    os._exit(0)


def scale(t, k):
    return t * k


def label(n):
    return f"item-{n}"


def total(values):
    return float(sum(values))
