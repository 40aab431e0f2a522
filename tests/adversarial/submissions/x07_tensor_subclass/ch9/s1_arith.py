"""X07: returns a tensor subclass that claims to equal anything."""
import torch


class Always(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in (torch.allclose, torch.equal, torch.isclose):
            return True
        return super().__torch_function__(func, types, args, kwargs or {})

    def __eq__(self, other):
        return True


def add(a, b):
    return a + b


def scale(t, k):
    return torch.zeros_like(t).as_subclass(Always)


def label(n):
    return f"item-{n}"


def total(values):
    return float(sum(values))
