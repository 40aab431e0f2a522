"""Mutants of a solution module, made inside its ``# BEGIN SOLUTION`` / ``# END SOLUTION``
regions only. A mutant that does not compile, or whose syntax tree equals the original's
or an earlier mutant's, is dropped."""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from hfcourse.mutate.operators import OPERATORS, Source
from hfcourse.stubs import _BEGIN, _END

__all__ = ["GeneratedMutant", "regions", "generate", "select"]


@dataclass(frozen=True)
class GeneratedMutant:
    """One mutation of one solution file."""

    section: str
    file: str
    line: int
    operator: str
    original: str
    """The first changed line, as in the solution (stripped)."""
    mutated: str
    """What that line became (stripped; empty when deleted)."""
    source: str
    """The whole mutated module."""
    name: str = ""
    """A hand-written mutant's name (``tests/mutants/*.toml``); empty for generated ones."""

    @property
    def id(self) -> str:
        return f"{self.section}: {self.file}:{self.line} {self.operator}: {self.mutated or '(line deleted)'}"


def regions(text: str) -> list[tuple[int, int]]:
    """``(first, last)`` line numbers (1-based, inclusive) of the code inside each solution region."""
    out, start = [], None
    for i, line in enumerate(text.splitlines(), start=1):
        if _BEGIN.match(line):
            start = i + 1
        elif _END.match(line) and start is not None:
            out.append((start, i - 1))
            start = None
    return out


def _inside(node: ast.AST, spans: list[tuple[int, int]]) -> bool:
    return any(a <= node.lineno and node.end_lineno <= b for a, b in spans)


def _changed_line(before: str, after: str) -> tuple[int, str, str]:
    """Line number, original and new text of the first line that differs."""
    old, new = before.splitlines(), after.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag != "equal":
            return i1 + 1, (old[i1].strip() if i1 < len(old) else ""), (new[j1].strip() if j1 < j2 else "")
    return 0, "", ""


def generate(text: str, *, section: str, file: str, operators: Iterable[str] | None = None) -> list[GeneratedMutant]:
    """Every mutant of solution ``text`` that the named operators (all when None) make."""
    names = list(operators) if operators is not None else list(OPERATORS)
    unknown = [n for n in names if n not in OPERATORS]
    if unknown:
        raise ValueError(f"unknown mutation operator(s) {', '.join(unknown)}; choose from {', '.join(OPERATORS)}")
    tree = ast.parse(text)
    spans = regions(text)
    src = Source(text)
    seen = {ast.dump(tree)}
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            child.parent = parent
    nodes = [n for n in ast.walk(tree) if hasattr(n, "end_lineno") and _inside(n, spans)]
    nodes.sort(key=lambda n: (n.lineno, n.col_offset))
    out = []
    for name in names:
        for node in nodes:
            for edit in OPERATORS[name](node, src):
                mutated = src.apply(edit)
                try:
                    dump = ast.dump(ast.parse(mutated))
                    compile(mutated, file, "exec")
                except (SyntaxError, ValueError):
                    continue
                if dump in seen:
                    continue
                seen.add(dump)
                line, original, changed = _changed_line(text, mutated)
                out.append(GeneratedMutant(section, file, line, name, original, changed, mutated))
    return out


def select(mutants: list[GeneratedMutant], limit: int | None) -> list[GeneratedMutant]:
    """At most ``limit`` mutants, taken in turn from each operator (in operator order, then
    source order) so that a small limit still covers every operator that applies."""
    if limit is None or limit >= len(mutants):
        return list(mutants)
    queues: dict[str, list[GeneratedMutant]] = {}
    for m in mutants:
        queues.setdefault(m.operator, []).append(m)
    chosen: list[GeneratedMutant] = []
    while len(chosen) < limit:
        for queue in queues.values():
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return chosen
