"""Grader of the adversarial test course. CANARY_PLACEHOLDER is replaced by a random string
at test time: it must never appear in any output, log or report."""

import pytest
import torch

from hfcourse import expect

CANARY = "CANARY_PLACEHOLDER"


@pytest.mark.grade(points=1, visibility="visible", hint="a + b", hint_zh="a + b")
def test_add(student, rng):
    a, b = rng.randrange(10**6), rng.randrange(10**6)
    expect.equal(student.add(a, b), a + b, "sum")


@pytest.mark.grade(points=1, hint="t * k", hint_zh="t * k")
def test_scale(student, reference, rng):
    t, k = torch.randn(3, 4, generator=torch.Generator().manual_seed(rng.randrange(10**6))), rng.random()
    want = reference.scale(t, k)
    expect.close(student.scale(t, k), want, "scaled tensor")
    expect.close(want, t * k, "reference")


@pytest.mark.grade(points=1, hint="an f-string", hint_zh="用f-string")
def test_label(student, rng):
    n = rng.randrange(10**6)
    expect.equal({"label": student.label(n), "secret": CANARY}, {"label": f"item-{n}", "secret": CANARY}, "label")


@pytest.mark.grade(points=1, hint="sum the values", hint_zh="对数值求和")
def test_total(student, rng):
    values = [rng.random() for _ in range(rng.randrange(5, 50))]
    got = student.total(values)
    expect.true(type(got) is float, f"total must be a float, got a {type(got).__name__}")
    expect.true(abs(got - sum(values)) < 1e-9, "wrong total")


@pytest.mark.grade(points=1, hint="one pass over the values", hint_zh="遍历一次即可")
def test_total_throughput(student, rng, bench):
    values = [rng.random() for _ in range(2000)]
    expect.true(abs(student.total(values) - sum(values)) < 1e-9, "wrong total")
    bench.compare("total", values, unit="lists/s", items=1, threshold=0.3, rounds=5)
