# Exercise 9.1: fill in every TODO, then run `hfcourse check 9.1`.
# 练习 9.1：完成每个 TODO，然后运行 `hfcourse check 9.1`。
"""9.1 Arithmetic (算术): the course whose grader fails in its own code."""


def add(a: int, b: int) -> int:
    """a + b."""
    # TODO: implement add (see the docstring)
    raise NotImplementedError("9.1 add: not implemented yet")


def pair(a: int, b: int) -> dict:
    """{"sum": a + b, "product": a * b}."""
    # TODO: implement pair (see the docstring)
    raise NotImplementedError("9.1 pair: not implemented yet")


def halve(a: int) -> float:
    """a / 2; the reference solution is called with a string and fails (the course's fault)."""
    # TODO: implement halve (see the docstring)
    raise NotImplementedError("9.1 halve: not implemented yet")
