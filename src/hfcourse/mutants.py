"""Buggy variants of reference solutions, for checking that graders catch real mistakes.

A mutant file (TOML) lists ``[[mutant]]`` entries: section, name, ``find`` (text that
occurs exactly once in the solution) and ``replace``; optionally the ``category`` the
graders must report."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from hfcourse.manifest import Course

__all__ = ["Mutant", "load", "apply", "write_submission"]


@dataclass(frozen=True)
class Mutant:
    section: str
    name: str
    find: str
    replace: str
    category: str | None = None

    @property
    def id(self) -> str:
        return f"{self.section}: {self.name}"


def load(path: Path) -> list[Mutant]:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    return [Mutant(**entry) for entry in data.get("mutant", [])]


def apply(mutant: Mutant, course: Course) -> str:
    """The solution text of ``mutant.section`` with the mutation applied."""
    section = course.section(mutant.section)
    source = (course.root / "solutions" / section.module).read_text(encoding="utf-8")
    count = source.count(mutant.find)
    if count != 1:
        raise ValueError(f"mutant {mutant.id!r}: its find text occurs {count} times in "
                         f"solutions/{section.module}; it must occur exactly once")
    return source.replace(mutant.find, mutant.replace)


def write_submission(mutant: Mutant, course: Course, directory: Path) -> Path:
    """A submission directory holding only the mutated module."""
    section = course.section(mutant.section)
    target = Path(directory) / section.module
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(apply(mutant, course), encoding="utf-8")
    return Path(directory)
