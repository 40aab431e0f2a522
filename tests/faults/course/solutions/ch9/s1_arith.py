"""9.1 Arithmetic (算术): the course whose grader fails in its own code."""


def add(a: int, b: int) -> int:
    """a + b."""
    # BEGIN SOLUTION
    return a + b
    # END SOLUTION


def pair(a: int, b: int) -> dict:
    """{"sum": a + b, "product": a * b}."""
    # BEGIN SOLUTION
    return {"sum": a + b, "product": a * b}
    # END SOLUTION


def halve(a: int) -> float:
    """a / 2; the reference solution is called with a string and fails (the course's fault)."""
    # BEGIN SOLUTION
    return a / 2
    # END SOLUTION
