"""Assertions for grader tests: compact messages that say what was expected, what came
back, where they first differ and the likely mistake, in English (``message``) and Chinese
(``message_zh``). They take decoded data only (plain types, tensors, arrays).

Every failure also carries a ``public`` message for hidden tests: positions, counts,
shapes and type names only, never an expected value."""

from __future__ import annotations

import contextlib
import functools
from collections import Counter
from collections.abc import Iterator
from typing import Any

__all__ = ["GradeFailure", "BadReply", "reply", "fail", "true", "equal", "close", "tensor", "differs", "as_good", "list_of"]

Likely = "str | tuple[str, str] | None"
_CONTEXT = 12
"""Characters of context shown on each side of a string difference."""


class GradeFailure(AssertionError):
    """A wrong result, with a student-facing explanation in English and Chinese."""

    def __init__(self, message: str, likely: str = "", likely_zh: str = "", public: str = "",
                 message_zh: str = "", public_zh: str = ""):
        super().__init__(message)
        self.message = message
        self.message_zh = message_zh
        """The message in Chinese ("" when the grader wrote it in one language only)."""
        self.likely = likely
        self.likely_zh = likely_zh
        self.public = public or message
        """The message without expected values, for hidden tests."""
        self.public_zh = public_zh or (message_zh if not public else "")


class BadReply(Exception):
    """The grader could not use what the student's code returned (scored BAD_OUTPUT): an
    exception raised while a reply was inspected, inside :func:`reply` or an ``expect`` check."""

    def __init__(self, what: str, cause: BaseException):
        super().__init__(f"{what}: {type(cause).__name__}: {cause}")
        self.what = what
        self.cause = cause


@contextlib.contextmanager
def reply(what: str) -> Iterator[None]:
    """Code that inspects what the student's code returned: any exception inside (a missing
    key, a list where a tensor was expected, a value of the wrong type) is the student's,
    scored BAD_OUTPUT with ``what`` named. Everything a grader does outside such a scope and
    outside the ``expect`` checks is its own code: an exception there is GRADER_ERROR, never
    the student's. Keep the scope to the lines that read the reply.

        with expect.reply("the offsets returned by align_labels"):
            starts = [s for s, _ in got["offsets"]]
    """
    try:
        yield
    except (GradeFailure, BadReply):
        raise
    except Exception as exc:
        raise BadReply(what, exc) from exc


def _checks_reply(at: int):
    """An ``expect`` check inspects a reply, so whatever it raises is the student's; its
    ``what`` argument (position ``at``) names the reply in the message."""

    def wrap(fn):
        @functools.wraps(fn)
        def checked(*args: Any, **kwargs: Any):
            what = kwargs.get("what", args[at] if len(args) > at else fn.__name__)
            with reply(str(what)):
                return fn(*args, **kwargs)

        return checked

    return wrap


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


def _fail2(en: str, zh: str, likely: Any, guess: tuple[str, str] | None, public: tuple[str, str] | None = None) -> None:
    """Fail with a two-language message; ``guess`` is the likely mistake when the caller named none."""
    raise GradeFailure(en, *_split(likely if likely is not None else guess), public=public[0] if public else "",
                       message_zh=zh, public_zh=public[1] if public else "")


def true(condition: bool, message: str, likely: Any = None) -> None:
    """``message`` must not contain expected values: hidden tests show it as it is."""
    if not condition:
        fail(message, likely)


def list_of(got: Any, kind: type | tuple[type, ...], what: str, likely: Any = None) -> list:
    """``got`` must be a list (or tuple) of ``kind`` items; returns it as a list, to read safely."""
    name = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
    if not isinstance(got, (list, tuple)) or not all(isinstance(g, kind) for g in got):
        seen = type(got).__name__ if not isinstance(got, (list, tuple)) else \
            f"a {type(got).__name__} holding {sorted({type(g).__name__ for g in got})}"
        _fail2(f"{what}: expected a list of {name}, got {seen}", f"{what}：应为 {name} 的列表，实际是 {seen}", likely, None)
    return list(got)


def as_good(got: float, reference: float, what: str, *, margin: float = 0.0, lower_is_better: bool = False,
            likely: Any = None) -> None:
    """A quality measured on drawn inputs (answers right, entities found, a metric, a loss) must
    be at least the reference's on the same inputs in the same run, less ``margin``: a student
    is held to what the reference achieves, never to a fixture's accuracy."""
    worse = got > reference + margin if lower_is_better else got < reference - margin
    if worse:
        by = f" by more than {margin:g}" if margin else ""
        _fail2(f"{what}: {got:g}, worse{by} than the reference's {reference:g} on the same inputs",
               f"{what}：{got:g}，比参考解答在相同输入上的 {reference:g} 差{'超过 ' + format(margin, 'g') if margin else ''}",
               likely, None)


# -- plain data ---------------------------------------------------------------------

def _where(path: list) -> str:
    return "".join(f"[{p!r}]" for p in path)


def _first_path(got: Any, want: Any, path: list) -> tuple[list, Any, Any]:
    """The index path to the first place where two nested values differ, and the values there."""
    if isinstance(want, (list, tuple)) and isinstance(got, (list, tuple)) and len(got) == len(want):
        for i, (a, b) in enumerate(zip(got, want)):
            if a != b:
                return _first_path(a, b, [*path, i])
    elif isinstance(want, dict) and isinstance(got, dict) and set(got) == set(want):
        for key in want:
            if got[key] != want[key]:
                return _first_path(got[key], want[key], [*path, key])
    return path, got, want


def _context(text: str, i: int) -> str:
    start, end = max(0, i - _CONTEXT), i + _CONTEXT
    return ("…" if start else "") + repr(text[start:end])[1:-1] + ("…" if end < len(text) else "")


def _guess_str(got: str, want: str) -> tuple[str, str] | None:
    if got.strip() == want.strip():
        return ("extra or missing spaces or newlines at the ends", "两端多了或少了空格、换行")
    if " ".join(got.split()) == " ".join(want.split()):
        return ("the whitespace inside the text differs", "文本内部的空白字符不同")
    if got.lower() == want.lower():
        return ("only upper/lower case differs: is the text lower-cased (or not) as it should be?",
                "只有大小写不同：文本是否应当（或不应当）转为小写？")
    return None


def _guess_seq(got: list | tuple, want: list | tuple) -> tuple[str, str] | None:
    try:
        same_items = Counter(map(repr, got)) == Counter(map(repr, want))
    except TypeError:
        same_items = False
    if same_items:
        if list(got) == list(want)[::-1]:
            return ("the items are in reverse order", "元素顺序反了")
        return ("the same items in a different order", "元素相同，但顺序不同")
    if len(got) == len(want) + 1 and (list(got[1:]) == list(want) or list(got[:-1]) == list(want)):
        return ("one item too many at the start or end (a special token, a header row?)",
                "开头或结尾多了一个元素（特殊token？表头行？）")
    if len(got) + 1 == len(want) and (list(want[1:]) == list(got) or list(want[:-1]) == list(got)):
        return ("one item missing at the start or end (an off-by-one slice?)", "开头或结尾少了一个元素（切片差了一位？）")
    return None


def _wrong_type(got: Any, want: Any, what: str, likely: Any) -> None:
    want_t, got_t = type(want).__name__, type(got).__name__
    _fail2(f"{what}: expected a {want_t}, got a {got_t} ({_short(got, 80)})",
           f"{what}：应为 {want_t}，实际是 {got_t}（{_short(got, 80)}）", likely, None,
           public=(f"{what}: expected a {want_t}, got a {got_t}", f"{what}：应为 {want_t}，实际是 {got_t}"))


@_checks_reply(2)
def equal(got: Any, want: Any, what: str, likely: Any = None) -> None:
    """Exact equality of plain data (str, numbers, lists, dicts, tuples)."""
    if type(got) is not type(want) and not (isinstance(got, (list, tuple)) and isinstance(want, (list, tuple))):
        _wrong_type(got, want, what, likely)
    if got == want:
        return
    path, g, w = _first_path(got, want, [])
    at = f"{what}{_where(path)}"
    if type(g) is not type(w) and not (isinstance(g, (list, tuple)) and isinstance(w, (list, tuple)) and len(g) != len(w)):
        _wrong_type(g, w, at, likely)
    if isinstance(w, str) and isinstance(g, str):
        i = next((k for k, (a, b) in enumerate(zip(g, w)) if a != b), min(len(g), len(w)))
        _fail2(f"{at}: strings differ at character {i} (lengths {len(w)} expected, {len(g)} got): "
               f"expected \"{_context(w, i)}\", got \"{_context(g, i)}\"",
               f"{at}：字符串从第 {i} 个字符起不同（期望长度 {len(w)}，实际 {len(g)}）："
               f"期望 \"{_context(w, i)}\"，实际 \"{_context(g, i)}\"", likely, _guess_str(g, w),
               public=(f"{at}: wrong string (length {len(g)}); first difference at character {i}",
                       f"{at}：字符串错误（长度 {len(g)}）；从第 {i} 个字符起不同"))
    if isinstance(w, (list, tuple)) and isinstance(g, (list, tuple)):
        i = next((k for k, (a, b) in enumerate(zip(g, w)) if a != b), min(len(g), len(w)))
        _fail2(f"{at}: expected {len(w)} items, got {len(g)}; first difference at index {i}: "
               f"expected {_short(w[i:i + 3])}, got {_short(g[i:i + 3])}",
               f"{at}：应有 {len(w)} 个元素，实际 {len(g)} 个；从下标 {i} 起不同：期望 {_short(w[i:i + 3])}，"
               f"实际 {_short(g[i:i + 3])}", likely, _guess_seq(g, w),
               public=(f"{at}: wrong number of items ({len(g)}); first difference at index {i}",
                       f"{at}：元素个数错误（{len(g)} 个）；从下标 {i} 起不同"))
    if isinstance(w, dict) and isinstance(g, dict):
        missing, extra = sorted(map(str, set(w) - set(g))), sorted(map(str, set(g) - set(w)))
        _fail2(f"{at}: keys differ (missing {missing}, unexpected {extra})",
               f"{at}：键不同（缺少 {missing}，多出 {extra}）", likely, None,
               public=(f"{at}: keys differ ({len(missing)} missing, unexpected {extra})",
                       f"{at}：键不同（缺少 {len(missing)} 个，多出 {extra}）"))
    en = zh = ""
    guess = None
    if path and isinstance(want, (list, tuple)) and isinstance(got, (list, tuple)):
        n = sum(a != b for a, b in zip(got, want))
        en, zh = f" ({n} of {len(want)} items differ)", f"（{len(want)} 个元素中有 {n} 个不同）"
        guess = _guess_seq(got, want)
    _fail2(f"{at}: expected {_short(w)}, got {_short(g)}{en}", f"{at}：期望 {_short(w)}，实际 {_short(g)}{zh}",
           likely, guess, public=(f"{at}: wrong value{en}", f"{at}：值错误{zh}"))


# -- tensors ------------------------------------------------------------------------

def _guess_shape(got: tuple, want: tuple) -> tuple[str, str] | None:
    if len(got) == len(want) and got == want[::-1] and got != want:
        return ("the dimensions are swapped (transposed)", "维度顺序反了（转置）")
    if sorted(got) == sorted(want) and got != want:
        return ("the dimensions are in the wrong order: check permute/transpose", "维度顺序不对：检查 permute/transpose")
    if tuple(d for d in got if d != 1) == tuple(d for d in want if d != 1):
        return ("an extra or missing dimension of size 1: squeeze/unsqueeze, keepdim or the batch dimension",
                "多了或少了一个大小为1的维度：squeeze/unsqueeze、keepdim 或 batch 维度")
    return None


@_checks_reply(1)
def tensor(got: Any, what: str, *, shape: tuple | None = None, dtype: Any = None, likely: Any = None):
    """Check that ``got`` is a tensor or array of the given shape/dtype; returns it as a torch tensor."""
    import numpy as np
    import torch

    if isinstance(got, np.ndarray):
        got = torch.from_numpy(got)
    if type(got) is not torch.Tensor:
        guess = ("return a torch tensor (return_tensors=\"pt\", torch.tensor(...)), not a list or number",
                 "请返回 torch 张量（return_tensors=\"pt\"、torch.tensor(...)），而不是列表或数字")
        _fail2(f"{what}: expected a tensor, got a {type(got).__name__}",
               f"{what}：应为张量，实际是 {type(got).__name__}", likely, guess)
    if shape is not None and tuple(got.shape) != tuple(shape):
        _fail2(f"{what}: expected shape {tuple(shape)}, got {tuple(got.shape)}",
               f"{what}：形状应为 {tuple(shape)}，实际是 {tuple(got.shape)}", likely,
               _guess_shape(tuple(got.shape), tuple(shape)))
    if dtype is not None and got.dtype != dtype:
        _fail2(f"{what}: expected dtype {dtype}, got {got.dtype}", f"{what}：dtype 应为 {dtype}，实际是 {got.dtype}",
               likely, None)
    return got


def _guess_values(g, w, bad) -> tuple[str, str] | None:
    import torch

    if g.dim() >= 1 and g.shape[-1] > 1:
        w_dist = torch.allclose(w.sum(-1), torch.ones_like(w.sum(-1)), atol=1e-4) and bool((w >= 0).all())
        if w_dist and not bool(((g >= 0) & (g <= 1)).all()):
            return ("these look like raw logits: apply softmax to get probabilities", "这看起来是原始logits：用softmax得到概率")
        if w_dist and g.dim() >= 2 and torch.allclose(g.sum(0), torch.ones_like(g.sum(0)), atol=1e-4):
            return ("softmax over the wrong dimension: use dim=-1", "softmax 的维度错了：应使用 dim=-1")
    if torch.allclose(g, -w, atol=1e-6) and bool(w.abs().max() > 0):
        return ("the sign is flipped", "符号反了")
    if g.dim() >= 2:
        rows = bad.flatten(1).any(1)
        if 0 < int(rows.sum()) < g.shape[0]:
            return ("only some rows differ: are those the padded ones (attention_mask)?",
                    "只有部分行不同：是补齐的行吗（attention_mask）？")
    return None


@_checks_reply(2)
def close(got: Any, want: Any, what: str, *, atol: float = 1e-5, rtol: float = 1e-4, likely: Any = None) -> None:
    """Numerical closeness of tensors/arrays: type, shape, finiteness, then values."""
    import numpy as np
    import torch

    want_t = torch.from_numpy(want) if isinstance(want, np.ndarray) else torch.as_tensor(want)
    got_t = tensor(got, what, shape=tuple(want_t.shape), likely=likely)
    if got_t.is_floating_point() and not torch.isfinite(got_t).all():
        n = int((~torch.isfinite(got_t)).sum())
        _fail2(f"{what}: {n} value(s) are NaN or infinity", f"{what}：有 {n} 个值是 NaN 或无穷大", likely,
               ("a division by zero, log of 0, or -inf left by a mask", "除以零、对0取log，或掩码留下了 -inf"))
    g, w = got_t.double(), want_t.double()
    bad = ~torch.isclose(g, w, atol=atol, rtol=rtol)
    if not bad.any():
        return
    where = [tuple(int(i) for i in idx) for idx in bad.nonzero()[:3]]
    first = where[0]
    n, total = int(bad.sum()), bad.numel()
    diff = (g - w).abs().max().item()
    shown = ", ".join(map(str, where)) + (", …" if n > 3 else "")
    kind = f"shape {tuple(got_t.shape)}, dtype {got_t.dtype}"
    if got_t.dtype != want_t.dtype:
        kind += f" (expected {want_t.dtype})"
    _fail2(f"{what}: {n} of {total} values differ ({kind}); at {shown}; max abs diff {diff:.3g}; "
           f"first at {first}: expected {w[first].item():.6g}, got {g[first].item():.6g}",
           f"{what}：{total} 个值中有 {n} 个不同（{kind}）；位置 {shown}；最大绝对误差 {diff:.3g}；"
           f"第一个在 {first}：期望 {w[first].item():.6g}，实际 {g[first].item():.6g}",
           likely, _guess_values(g, w, bad),
           public=(f"{what}: {n} of {total} values differ ({kind}); at {shown}",
                   f"{what}：{total} 个值中有 {n} 个不同（{kind}）；位置 {shown}"))


@_checks_reply(2)
def differs(a: Any, b: Any, what: str, *, atol: float = 1e-4, likely: Any = None) -> None:
    """Two tensors must NOT be close (e.g. padded logits without a mask)."""
    import torch

    if torch.allclose(torch.as_tensor(a).double(), torch.as_tensor(b).double(), atol=atol):
        _fail2(f"{what}: expected them to differ, but they are equal within {atol}",
               f"{what}：两者应当不同，但在 {atol} 的误差内相等", likely, None)
