"""X16: allocates far more memory than allowed."""
import torch


def add(a, b):
    return len(bytearray(8 << 30))


def scale(t, k):
    return torch.empty(10**11)


def label(n):
    return f"item-{n}"


def total(values):
    return float(sum(values))
