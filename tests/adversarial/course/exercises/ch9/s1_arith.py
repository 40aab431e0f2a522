# Exercise 9.1: fill in every TODO, then run `hfcourse check 9.1`.
# 练习 9.1：完成每个 TODO，然后运行 `hfcourse check 9.1`。
"""9.1 Arithmetic — 算术: the honest submission of the adversarial test course."""

import torch


def add(a: int, b: int) -> int:
    """a + b."""
    # TODO: implement add (see the docstring)
    raise NotImplementedError("9.1 add: not implemented yet")


def scale(t: torch.Tensor, k: float) -> torch.Tensor:
    """Every element of ``t`` times ``k``."""
    # TODO: implement scale (see the docstring)
    raise NotImplementedError("9.1 scale: not implemented yet")


def label(n: int) -> str:
    """``"item-<n>"``."""
    # TODO: implement label (see the docstring)
    raise NotImplementedError("9.1 label: not implemented yet")


def total(values: list[float]) -> float:
    """The sum of ``values``."""
    # TODO: implement total (see the docstring)
    raise NotImplementedError("9.1 total: not implemented yet")
