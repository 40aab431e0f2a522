"""Assertions for grader tests: short messages that say what was expected, what came
back, and the likely mistake. They take decoded data only (plain types, tensors, arrays)."""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["GradeFailure", "fail", "true", "equal", "close", "tensor", "differs"]

Likely = "str | tuple[str, str] | None"


class GradeFailure(AssertionError):
    """A wrong result, with a student-facing explanation in English and Chinese."""

    def __init__(self, message: str, likely: str = "", likely_zh: str = "", public: str = ""):
        super().__init__(message)
        self.message = message
        self.likely = likely
        self.likely_zh = likely_zh
        self.public = public or message
        """The message without expected values, for hidden tests."""


def _split(likely: Any) -> tuple[str, str]:
    if likely is None:
        return "", ""
    if isinstance(likely, tuple):
        return likely[0], likely[1]
    return likely, ""


def _short(v: Any, limit: int = 160) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 5] + " …" + text[-4:]


def fail(message: str, likely: Any = None, public: str = "") -> None:
    raise GradeFailure(message, *_split(likely), public=public)


def true(condition: bool, message: str, likely: Any = None) -> None:
    """``message`` must not contain expected values: hidden tests show it as it is."""
    if not condition:
        fail(message, likely)


def _first_difference(got: Sequence, want: Sequence) -> int | None:
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            return i
    return None if len(got) == len(want) else min(len(got), len(want))


def equal(got: Any, want: Any, what: str, likely: Any = None) -> None:
    """Exact equality of plain data (str, numbers, lists, dicts, tuples)."""
    if type(got) is not type(want) and not (isinstance(got, (list, tuple)) and isinstance(want, (list, tuple))):
        fail(f"{what}: expected a {type(want).__name__}, got a {type(got).__name__} ({_short(got, 80)})", likely)
    if got == want:
        return
    if isinstance(want, (list, tuple, str)):
        i = _first_difference(got, want)
        if len(got) != len(want):
            fail(f"{what}: expected length {len(want)}, got {len(got)}; first difference at position {i}: "
                 f"expected {_short(want[i:i + 3])}, got {_short(got[i:i + 3])}", likely,
                 public=f"{what}: wrong length ({len(got)}); first difference at position {i}")
        fail(f"{what}: first difference at position {i}: expected {_short(want[i])}, got {_short(got[i])}", likely,
             public=f"{what}: first difference at position {i}")
    if isinstance(want, dict):
        missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        if missing or extra:
            fail(f"{what}: keys differ (missing {missing}, unexpected {extra})", likely,
                 public=f"{what}: keys differ ({len(missing)} missing, unexpected {extra})")
        key = next(k for k in want if got[k] != want[k])
        fail(f"{what}[{key!r}]: expected {_short(want[key])}, got {_short(got[key])}", likely,
             public=f"{what}[{key!r}]: wrong value")
    fail(f"{what}: expected {_short(want)}, got {_short(got)}", likely, public=f"{what}: wrong value")


def tensor(got: Any, what: str, *, shape: tuple | None = None, dtype: Any = None, likely: Any = None):
    """Check that ``got`` is a tensor or array of the given shape/dtype; returns it as a torch tensor."""
    import numpy as np
    import torch

    if isinstance(got, np.ndarray):
        got = torch.from_numpy(got)
    if type(got) is not torch.Tensor:
        fail(f"{what}: expected a tensor, got a {type(got).__name__}", likely)
    if shape is not None and tuple(got.shape) != tuple(shape):
        fail(f"{what}: expected shape {tuple(shape)}, got {tuple(got.shape)}", likely)
    if dtype is not None and got.dtype != dtype:
        fail(f"{what}: expected dtype {dtype}, got {got.dtype}", likely)
    return got


def close(got: Any, want: Any, what: str, *, atol: float = 1e-5, rtol: float = 1e-4, likely: Any = None) -> None:
    """Numerical closeness of tensors/arrays: type, shape, finiteness, then values."""
    import numpy as np
    import torch

    want_t = torch.from_numpy(want) if isinstance(want, np.ndarray) else torch.as_tensor(want)
    got_t = tensor(got, what, shape=tuple(want_t.shape), likely=likely)
    if got_t.is_floating_point() and not torch.isfinite(got_t).all():
        fail(f"{what}: contains NaN or infinity", likely)
    g, w = got_t.double(), want_t.double()
    bad = ~torch.isclose(g, w, atol=atol, rtol=rtol)
    if bad.any():
        idx = tuple(int(i) for i in bad.nonzero()[0])
        diff = (g - w).abs().max().item()
        fail(f"{what}: {int(bad.sum())} of {bad.numel()} values differ (max abs diff {diff:.3g}); "
             f"first at index {idx}: expected {w[idx].item():.6g}, got {g[idx].item():.6g}", likely,
             public=f"{what}: {int(bad.sum())} of {bad.numel()} values differ; first at index {idx}")


def differs(a: Any, b: Any, what: str, *, atol: float = 1e-4, likely: Any = None) -> None:
    """Two tensors must NOT be close (e.g. padded logits without a mask)."""
    import torch

    if torch.allclose(torch.as_tensor(a).double(), torch.as_tensor(b).double(), atol=atol):
        fail(f"{what}: expected them to differ, but they are equal within {atol}", likely)

