"""9.1 Arithmetic — 算术: the honest submission of the adversarial test course."""

import torch


def add(a: int, b: int) -> int:
    """a + b."""
    # BEGIN SOLUTION
    return a + b
    # END SOLUTION


def scale(t: torch.Tensor, k: float) -> torch.Tensor:
    """Every element of ``t`` times ``k``."""
    # BEGIN SOLUTION
    return t * k
    # END SOLUTION


def label(n: int) -> str:
    """``"item-<n>"``."""
    # BEGIN SOLUTION
    return f"item-{n}"
    # END SOLUTION


def total(values: list[float]) -> float:
    """The sum of ``values``."""
    # BEGIN SOLUTION
    return float(sum(values))
    # END SOLUTION
