"""Generate exercise stubs from reference solutions.

A solution region is the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION``
inside a function. In the exercise it becomes a ``# TODO`` line and
``raise NotImplementedError("<section> <function>: not implemented yet")``,
indented like the marker; signature and docstring stay.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hfcourse.manifest import Course, Section

__all__ = ["StubError", "strip", "generate", "check", "write_pristine", "NOT_IMPLEMENTED"]

_BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
_END = re.compile(r"^(\s*)# END SOLUTION\s*$")
_DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(")
NOT_IMPLEMENTED = "{section} {function}: not implemented yet"
HEADER = (
    "# Exercise {section}: fill in every TODO, then run `hfcourse check {section}`.\n"
    "# 练习 {section}：完成每个 TODO，然后运行 `hfcourse check {section}`。\n"
)


class StubError(ValueError):
    """A solution file has bad markers; the message gives file:line."""


@dataclass(frozen=True)
class Drift:
    """An exercise file that differs from what its solution generates."""

    path: Path
    reason: str


def _enclosing_function(lines: list[str], index: int, indent: int) -> str | None:
    for line in reversed(lines[:index]):
        m = _DEF.match(line)
        if m and len(m.group(1)) < indent:
            return m.group(2)
    return None


def strip(source: str, section: str, filename: str = "<solution>") -> str:
    """The exercise text for one solution module."""
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    open_at: int | None = None
    for i, line in enumerate(lines):
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin:
            if open_at is not None:
                raise StubError(f"{filename}:{i + 1}: nested BEGIN SOLUTION (the region opened at line {open_at + 1} is not closed)")
            indent = len(begin.group(1))
            func = _enclosing_function(lines, i, indent)
            if func is None:
                raise StubError(f"{filename}:{i + 1}: BEGIN SOLUTION outside a function: put solution regions inside function bodies")
            pad = begin.group(1)
            out.append(f"{pad}# TODO: implement {func} (see the docstring)\n")
            out.append(f'{pad}raise NotImplementedError("{NOT_IMPLEMENTED.format(section=section, function=func)}")\n')
            open_at = i
        elif end:
            if open_at is None:
                raise StubError(f"{filename}:{i + 1}: END SOLUTION without a matching BEGIN SOLUTION")
            open_at = None
        elif "BEGIN SOLUTION" in line or "END SOLUTION" in line:
            raise StubError(f"{filename}:{i + 1}: malformed marker: write it alone on its line as '# BEGIN SOLUTION' or '# END SOLUTION'")
        elif open_at is None:
            out.append(line)
    if open_at is not None:
        raise StubError(f"{filename}:{open_at + 1}: BEGIN SOLUTION is never closed: add '# END SOLUTION'")
    if not any(_BEGIN.match(line) for line in lines):
        raise StubError(f"{filename}:1: no '# BEGIN SOLUTION' region: a section module needs at least one")
    return HEADER.format(section=section) + "".join(out)


def _pairs(course: Course, sections: list[Section] | None) -> list[tuple[Section, Path, Path]]:
    root = course.root
    return [
        (s, root / "solutions" / s.module, root / "exercises" / s.module)
        for s in (sections if sections is not None else [s for s in course.sections if s.ready])
    ]


def generate(course: Course, sections: list[Section] | None = None) -> list[Path]:
    """Write exercises/ from solutions/; returns the files that changed."""
    changed = []
    for sec, sol, ex in _pairs(course, sections):
        text = strip(sol.read_text(encoding="utf-8"), sec.id, str(sol.relative_to(course.root)))
        if not ex.exists() or ex.read_text(encoding="utf-8") != text:
            ex.parent.mkdir(parents=True, exist_ok=True)
            ex.write_text(text, encoding="utf-8")
            changed.append(ex)
    return changed


def check(course: Course, sections: list[Section] | None = None) -> list[Drift]:
    """Exercise files that are missing or differ from their generated text. A file edited in the
    working tree whose committed version (git ``HEAD``) is in step is a student's work, not drift."""
    drift = []
    for sec, sol, ex in _pairs(course, sections):
        if not sol.exists():
            drift.append(Drift(sol, f"section {sec.id} is ready but its solution is missing"))
            continue
        text = strip(sol.read_text(encoding="utf-8"), sec.id, str(sol.relative_to(course.root)))
        if not ex.exists():
            drift.append(Drift(ex, "missing: run `hfcourse stubs`"))
        elif ex.read_text(encoding="utf-8") != text and _committed(course.root, ex) != text:
            drift.append(Drift(ex, "differs from its solution: run `hfcourse stubs` (edit solutions/, never exercises/ by hand)"))
    return drift


def _committed(root: Path, path: Path) -> str | None:
    """The text of ``path`` as git's ``HEAD`` holds it (None outside a git checkout)."""
    import subprocess

    try:
        proc = subprocess.run(["git", "-C", str(root), "show", f"HEAD:{path.relative_to(root).as_posix()}"],
                              capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else None


def write_pristine(course: Course, dest: Path, sections: list[Section] | None = None) -> Path:
    """The stubs generated afresh from solutions/ into ``dest``, laid out like exercises/ (a
    submission that must score 0 as NOT_ATTEMPTED, whatever a student did in exercises/)."""
    for sec, sol, _ in _pairs(course, sections):
        out = Path(dest) / sec.module
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(strip(sol.read_text(encoding="utf-8"), sec.id, str(sol.relative_to(course.root))), encoding="utf-8")
    return Path(dest)
