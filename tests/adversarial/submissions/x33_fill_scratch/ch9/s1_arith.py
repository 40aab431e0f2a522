"""X33: six files of 100 MiB in the working directory, each under the per-file limit: only a
limit on the scratch directory as a whole keeps them off the host's disk."""


def add(a, b):
    block = b"x" * (1 << 20)
    for i in range(6):
        with open(f"filler-{i}.bin", "wb") as fh:
            for _ in range(100):
                fh.write(block)
    return a + b


def scale(t, k):
    return t * k


def label(n):
    return f"item-{n}"


def total(values):
    return float(sum(values))
