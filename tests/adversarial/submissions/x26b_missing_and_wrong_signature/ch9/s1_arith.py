"""X26b: a missing function, a wrong signature and a non-UTF-8 error message."""


def add(a):
    return a


def scale(t, k):
    raise ValueError(b'\xff\xfe bad bytes'.decode('latin-1') + '\udcff')


def label(n):
    return f"item-{n}"
