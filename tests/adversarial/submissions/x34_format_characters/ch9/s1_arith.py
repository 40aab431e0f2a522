"""X34: Unicode format and bidi controls (category Cf) and C1 controls in printed output and in an
exception message: a right-to-left override makes "exe.gnp" read as "png.exe" in a report."""
import torch

TRICKS = "\u202eexe.gnp\u202c \u2066isolate\u2069 \u200bzero\u200dwidth\ufeff \u061c\u200e\u200f \x9b31m \u2028 \U000e0041"


def add(a, b):
    print("passed 5/5" + TRICKS)
    raise ValueError("photo" + TRICKS)


def scale(t, k):
    return t * k


def label(n):
    print(TRICKS)
    return f"item-\u202e{n}"


def total(values):
    return float(sum(values))
