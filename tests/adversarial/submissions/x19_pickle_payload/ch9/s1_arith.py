"""X19: returns pickle payloads that would create /tmp/PWNED if anything unpickled them."""
import os
import pickle
import numpy


class Boom:
    def __reduce__(self):
        return (os.system, ("touch /tmp/PWNED",))


def add(a, b):
    return pickle.dumps(Boom())


def scale(t, k):
    return t * k


def label(n):
    return numpy.array([Boom()], dtype=object)


def total(values):
    return float(sum(values))
