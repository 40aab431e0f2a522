"""X08: returns a mock, an always-equal object and a generator."""
from unittest import mock


class Equal:
    def __eq__(self, other):
        return True


def add(a, b):
    return mock.MagicMock()


def scale(t, k):
    return t * k


def label(n):
    return Equal()


def total(values):
    return (v for v in values)
