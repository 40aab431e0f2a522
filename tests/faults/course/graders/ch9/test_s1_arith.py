"""Grader of the grader-faults test course: some tests fail in the grader's own code."""

import pytest
import torch

from hfcourse import expect

RUNS = {"flaky": 0}


@pytest.mark.grade(points=1, visibility="visible", hint="a + b", hint_zh="a + b")
def test_add(student, rng):
    a, b = rng.randrange(100), rng.randrange(100)
    expect.equal(student.add(a, b), a + b, "sum")


@pytest.mark.grade(points=2, hint="a + b", hint_zh="a + b")
def test_grader_raises(student, rng):
    a, b = rng.randrange(100), rng.randrange(100)
    expect.equal(student.add(a, b), a + b, "sum")
    torch.zeros(2) + torch.zeros(3)  # the grader's own torch code fails: never the student's fault


@pytest.mark.grade(points=1, hint="a + b", hint_zh="a + b")
def test_grader_raises_once(student, rng):
    RUNS["flaky"] += 1
    a, b = rng.randrange(100), rng.randrange(100)
    got = student.add(a, b)
    if RUNS["flaky"] == 1:
        raise RuntimeError("Already borrowed")  # as a shared fast tokenizer would, once
    expect.equal(got, a + b, "sum")


@pytest.mark.grade(points=1, hint="a / 2", hint_zh="a / 2")
def test_reference_fails(student, reference, rng):
    a = rng.randrange(100)
    got = student.halve(a)
    expect.close(torch.tensor(got), torch.tensor(reference.halve(str(a))), "half")


@pytest.mark.grade(points=2, hint="return a dict with sum and product", hint_zh="返回含 sum 和 product 的字典")
def test_pair(student, rng):
    a, b = rng.randrange(100), rng.randrange(100)
    got = student.pair(a, b)
    with expect.reply("the dict pair returned"):
        total, product = got["sum"], got["product"]
    expect.equal((total, product), (a + b, a * b), "sum and product")


@pytest.mark.grade(points=1, hint="return a dict with sum and product", hint_zh="返回含 sum 和 product 的字典")
def test_pair_unscoped(student, rng):
    a, b = rng.randrange(100), rng.randrange(100)
    got = student.pair(a, b)
    total = got["sum"] + got["product"]  # reads the reply outside a reply scope: the control run decides
    expect.equal(total, a + b + a * b, "sum plus product")
