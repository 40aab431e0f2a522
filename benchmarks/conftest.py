"""Fixtures of the benchmarks (``nox -s bench``)."""

from __future__ import annotations

import pytest


@pytest.fixture
def once(benchmark):
    """Time one call of a slow function with pytest-benchmark (one round, no warm-up)."""
    def measure(fn, *args, **kwargs):
        return benchmark.pedantic(fn, args=args, kwargs=kwargs, rounds=1, iterations=1, warmup_rounds=0)
    return measure
