"""X13: ships torch.py, numpy.py and json.py beside the module; the module itself is honest."""


def add(a, b):
    return a + b


def scale(t, k):
    return t * k


def label(n):
    return f"item-{n}"


def total(values):
    return float(sum(values))
