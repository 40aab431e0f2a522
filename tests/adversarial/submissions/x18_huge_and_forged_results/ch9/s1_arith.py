"""X18: returns a 300 MB string, a huge tensor, and forges the reply pipe."""
import os
import sys
import torch


def add(a, b):
    return 'x' * (300 << 20)


def scale(t, k):
    return torch.zeros(10**9, dtype=torch.int8)


def label(n):
    os.write(int(sys.argv[2]), (64).to_bytes(8, 'big') + (2**62).to_bytes(8, 'big') + (0).to_bytes(8, 'big') + b'{' * 64)
    return 'item-%d' % n


def total(values):
    return float(sum(values))
