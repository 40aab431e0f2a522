"""Mutation operators: each finds the places in a parsed module where it applies and
returns text edits (byte offsets into the source), so the mutant keeps the solution's
formatting everywhere else.

Course-specific operators model the mistakes students of this course make (softmax over
the batch, a dropped attention mask, no padding, unshifted labels, -100 not ignored, no
``model.eval()``, gradients left on, an unseeded shuffle); generic ones flip comparisons,
swap arguments and return values, move slice bounds and tweak constants."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["Edit", "Source", "OPERATORS", "COURSE_OPERATORS", "GENERIC_OPERATORS"]


@dataclass(frozen=True)
class Edit:
    """Replace ``source[start:end]`` (bytes) with ``text``; ``node`` is what it mutates."""

    start: int
    end: int
    text: str
    node: ast.AST


class Source:
    """A module's text with byte offsets for ``ast`` positions (which count UTF-8 bytes)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8")
        self.lines = self.data.splitlines(keepends=True)
        self.line_start = [0]
        for line in self.lines:
            self.line_start.append(self.line_start[-1] + len(line))

    def offset(self, lineno: int, col: int) -> int:
        return self.line_start[lineno - 1] + col

    def span(self, node: ast.AST) -> tuple[int, int]:
        return self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)

    def segment(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.data[start:end].decode("utf-8")

    def replace(self, node: ast.AST, text: str) -> Edit:
        return Edit(*self.span(node), text, node)

    def apply(self, edit: Edit) -> str:
        return (self.data[: edit.start] + edit.text.encode("utf-8") + self.data[edit.end:]).decode("utf-8")


Operator = Callable[[ast.AST, Source], Iterator[Edit]]

_DIM_FUNCS = {"softmax", "log_softmax", "argmax", "argmin", "mean", "sum", "max", "min", "cumsum", "logsumexp",
              "norm", "topk", "sort", "argsort", "std", "var", "prod", "cat", "stack", "squeeze", "unsqueeze"}
_MODULES = {"torch", "F", "nn", "np", "numpy", "functional"}
_FLAG_KEYWORDS = {"padding", "truncation", "batched"}
_SEED_CALLS = {"set_seed", "manual_seed", "seed"}
_NO_GRAD = {"no_grad", "inference_mode"}


def _name(node: ast.AST) -> str:
    """The last identifier of a callee: ``torch.softmax`` -> ``softmax``."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _int(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _int(node.operand) is not None:
        return -_int(node.operand)
    return None


def _other_dim(value: int) -> int:
    return 0 if value != 0 else -1


def dim(node: ast.AST, src: Source) -> Iterator[Edit]:
    """``softmax(x, dim=-1)`` -> ``dim=0`` (and 0 -> -1, other dims -> 0)."""
    if not isinstance(node, ast.Call):
        return
    for kw in node.keywords:
        if kw.arg in ("dim", "axis") and _int(kw.value) is not None:
            yield src.replace(kw.value, str(_other_dim(_int(kw.value))))
    name = _name(node.func)
    if name not in _DIM_FUNCS:
        return
    on_module = isinstance(node.func, ast.Attribute) and _name(node.func.value) in _MODULES
    position = 1 if on_module else 0
    if isinstance(node.func, ast.Attribute) and len(node.args) > position and _int(node.args[position]) is not None:
        yield src.replace(node.args[position], str(_other_dim(_int(node.args[position]))))


def attention_mask(node: ast.AST, src: Source) -> Iterator[Edit]:
    """Drop ``attention_mask=``; ``model(**inputs)`` -> ``model(inputs["input_ids"])``."""
    if not isinstance(node, ast.Call):
        return
    for kw in node.keywords:
        if kw.arg == "attention_mask":
            yield _drop_keyword(node, kw, src)
    callee = src.segment(node.func)
    if "model" in callee.lower() and not node.args and len(node.keywords) == 1 and node.keywords[0].arg is None:
        inputs = src.segment(node.keywords[0].value)
        yield src.replace(node, f'{callee}({inputs}["input_ids"])')


def flags(node: ast.AST, src: Source) -> Iterator[Edit]:
    """``padding=True`` / ``truncation=True`` / ``batched=True`` -> ``False``."""
    if not isinstance(node, ast.Call):
        return
    for kw in node.keywords:
        if kw.arg in _FLAG_KEYWORDS and not (isinstance(kw.value, ast.Constant) and kw.value.value in (False, None)):
            yield src.replace(kw.value, "False")


def label_shift(node: ast.AST, src: Source) -> Iterator[Edit]:
    """A shift slice loses its shift: ``labels[..., 1:]`` / ``logits[:, :-1]`` -> the whole axis."""
    if not isinstance(node, ast.Slice) or node.step is not None:
        return
    lower, upper = _int(node.lower) if node.lower else None, _int(node.upper) if node.upper else None
    if node.upper is None and lower == 1 or node.lower is None and upper == -1:
        yield src.replace(node, ":")


def ignore_index(node: ast.AST, src: Source) -> Iterator[Edit]:
    """``-100`` -> ``0``; ``ignore_index=-100`` dropped."""
    if isinstance(node, ast.Call):
        for kw in node.keywords:
            if kw.arg == "ignore_index":
                yield _drop_keyword(node, kw, src)
    elif isinstance(node, ast.UnaryOp) and _int(node) == -100:
        yield src.replace(node, "0")


def no_eval(node: ast.AST, src: Source) -> Iterator[Edit]:
    """Delete a ``model.eval()`` statement."""
    if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and _name(node.value.func) == "eval"
            and isinstance(node.value.func, ast.Attribute) and not node.value.args):
        yield src.replace(node, "pass")


def no_grad(node: ast.AST, src: Source) -> Iterator[Edit]:
    """``with torch.no_grad():`` removed, its body dedented (or the item dropped from a longer ``with``)."""
    if not isinstance(node, ast.With):
        return
    for i, item in enumerate(node.items):
        expr = item.context_expr
        if not (isinstance(expr, ast.Call) and _name(expr.func) in _NO_GRAD):
            continue
        if len(node.items) > 1:
            spans = [(src.span(it.context_expr)[0], src.span(it.optional_vars or it.context_expr)[1]) for it in node.items]
            others = [src.data[a:b].decode("utf-8") for j, (a, b) in enumerate(spans) if j != i]
            yield Edit(spans[0][0], spans[-1][1], ", ".join(others), node)
            continue
        first = node.body[0].lineno
        shift = node.body[0].col_offset - node.col_offset
        body = b"".join(src.lines[first - 1: node.end_lineno])
        dedented = "".join(line[shift:] if line[:shift].isspace() else line.lstrip()
                           for line in body.decode("utf-8").splitlines(keepends=True))
        start = src.offset(node.lineno, 0)
        end = src.offset(node.end_lineno, 0) + len(src.lines[node.end_lineno - 1])
        yield Edit(start, end, dedented, node)


def unseeded(node: ast.AST, src: Source) -> Iterator[Edit]:
    """``shuffle(seed=...)`` -> no seed (also ``generator=``); ``set_seed(...)`` statements deleted."""
    if isinstance(node, ast.Call):
        for kw in node.keywords:
            if kw.arg in ("seed", "generator", "random_state"):
                yield _drop_keyword(node, kw, src)
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and _name(node.value.func) in _SEED_CALLS:
        yield src.replace(node, "pass")


def compare(node: ast.AST, src: Source) -> Iterator[Edit]:
    """``<`` <-> ``<=``, ``>`` <-> ``>=``."""
    if not isinstance(node, ast.Compare) or len(node.ops) != 1:
        return
    swap = {ast.Lt: "<=", ast.LtE: "<", ast.Gt: ">=", ast.GtE: ">"}
    new = swap.get(type(node.ops[0]))
    if new:
        yield src.replace(node, f"{src.segment(node.left)} {new} {src.segment(node.comparators[0])}")


def swap_args(node: ast.AST, src: Source) -> Iterator[Edit]:
    """Two neighbouring positional arguments of a call swapped."""
    if not isinstance(node, ast.Call):
        return
    for a, b in zip(node.args, node.args[1:]):
        if isinstance(a, ast.Starred) or isinstance(b, ast.Starred):
            continue
        left, right = src.segment(a), src.segment(b)
        if left != right:
            start, _ = src.span(a)
            _, end = src.span(b)
            between = src.data[src.span(a)[1]: src.span(b)[0]].decode("utf-8")
            yield Edit(start, end, f"{right}{between}{left}", node)


def return_swap(node: ast.AST, src: Source) -> Iterator[Edit]:
    """``return a, b`` -> ``return b, a``."""
    if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) >= 2:
        a, b = node.value.elts[:2]
        if src.segment(a) != src.segment(b):
            between = src.data[src.span(a)[1]: src.span(b)[0]].decode("utf-8")
            yield Edit(src.span(a)[0], src.span(b)[1], f"{src.segment(b)}{between}{src.segment(a)}", node)


def slice_bound(node: ast.AST, src: Source) -> Iterator[Edit]:
    """A slice bound moved by one: ``x[:n]`` -> ``x[:n + 1]`` and ``x[:n - 1]``."""
    if not isinstance(node, ast.Slice):
        return
    for bound in (node.lower, node.upper):
        if bound is None:
            continue
        value = _int(bound)
        if value is not None:
            for new in (value + 1, value - 1):
                yield src.replace(bound, str(new))
        else:
            text = src.segment(bound)
            wrapped = text if isinstance(bound, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)) else f"({text})"
            yield src.replace(bound, f"{wrapped} + 1")
            yield src.replace(bound, f"{wrapped} - 1")


def constant(node: ast.AST, src: Source) -> Iterator[Edit]:
    """``0`` <-> ``1``, ``True`` <-> ``False`` (not the operand of a unary minus: ``-1`` stays)."""
    if not isinstance(node, ast.Constant) or isinstance(getattr(node, "parent", None), ast.UnaryOp):
        return
    if node.value is True or node.value is False:
        yield src.replace(node, str(not node.value))
    elif type(node.value) is int and node.value in (0, 1):
        yield src.replace(node, str(1 - node.value))


def _drop_keyword(call: ast.Call, kw: ast.keyword, src: Source) -> Edit:
    """The call with one keyword argument removed (its comma too)."""
    parts = [src.segment(a) for a in call.args] + [src.segment(k) for k in call.keywords if k is not kw]
    return src.replace(call, f"{src.segment(call.func)}({', '.join(parts)})")


COURSE_OPERATORS: dict[str, Operator] = {
    "dim": dim,
    "attention-mask": attention_mask,
    "flag": flags,
    "label-shift": label_shift,
    "ignore-index": ignore_index,
    "no-eval": no_eval,
    "no-grad": no_grad,
    "unseeded": unseeded,
}
GENERIC_OPERATORS: dict[str, Operator] = {
    "swap-args": swap_args,
    "return-swap": return_swap,
    "compare": compare,
    "slice-bound": slice_bound,
    "constant": constant,
}
OPERATORS: dict[str, Operator] = {**COURSE_OPERATORS, **GENERIC_OPERATORS}

