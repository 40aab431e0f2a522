"""Read a graded batch directory (the layout ``hfcourse grade-batch`` writes)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hfcourse.results import RunResult

__all__ = ["Batch", "BatchError", "Student", "load_batch"]


class BatchError(ValueError):
    """The batch directory cannot be read; the message names the file and the fix."""


@dataclass
class Student:
    """One student of the batch: their graded run, or why there is none."""

    name: str
    submission: str = ""
    status: str = "error"
    error: str | None = None
    duration: float = 0.0
    run: RunResult | None = None

    @property
    def graded(self) -> bool:
        return self.run is not None

    @property
    def fraction(self) -> float:
        """Score over maximum (0 when ungraded or the maximum is 0)."""
        if self.run is None or not self.run.max_score:
            return 0.0
        return self.run.score / self.run.max_score


@dataclass
class Batch:
    """A whole graded class."""

    directory: Path
    course: str
    started: str
    finished: str
    sections: list[str]
    seed: int | None
    students: list[Student] = field(default_factory=list)

    @property
    def graded(self) -> list[Student]:
        return [s for s in self.students if s.graded]

    def student(self, name: str) -> Student:
        for s in self.students:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.students) or "none"
        raise BatchError(f"no student {name!r} in {self.directory / 'batch.json'} (students: {known})")


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BatchError(f"{path} not found: {what}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BatchError(f"{path} is not valid JSON ({exc}): grade the batch again with "
                         "`hfcourse grade-batch SUBMISSIONS --force`") from None


def _student(directory: Path, raw: Any, index: int) -> Student:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise BatchError(f"{directory / 'batch.json'}: students[{index}] has no name; "
                         "the file was not written by `hfcourse grade-batch`")
    student = Student(name=raw["name"], submission=str(raw.get("submission") or ""),
                      status=str(raw.get("status") or "error"), error=raw.get("error"),
                      duration=float(raw.get("duration") or 0.0))
    if student.status != "graded":
        student.error = student.error or "not graded"
        return student
    rel = raw.get("report") or f"students/{student.name}/report.json"
    path = (directory / rel).resolve()
    if directory.resolve() not in path.parents:
        student.status, student.error = "error", f"report path {rel!r} points outside the batch directory"
        return student
    try:
        student.run = RunResult.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        student.status, student.error = "error", f"{rel} is missing: re-grade this student"
    except (ValueError, TypeError, KeyError) as exc:
        student.status, student.error = "error", f"{rel} is not a grading report ({type(exc).__name__}: {exc})"
    return student


def load_batch(batch_dir: Path | str) -> Batch:
    """The batch in ``batch_dir``; a student whose report is unreadable is kept as an error."""
    directory = Path(batch_dir)
    if not directory.is_dir():
        raise BatchError(f"{directory} is not a directory: pass the output directory of "
                         "`hfcourse grade-batch SUBMISSIONS --out DIR`")
    meta = _read_json(directory / "batch.json",
                      "grade the class first: `hfcourse grade-batch SUBMISSIONS --out DIR`, then `hfcourse report DIR`")
    if not isinstance(meta, dict) or not isinstance(meta.get("students"), list):
        raise BatchError(f"{directory / 'batch.json'} has no students list; it was not written by `hfcourse grade-batch`")
    seed = meta.get("seed")
    batch = Batch(directory=directory, course=str(meta.get("course") or ""), started=str(meta.get("started") or ""),
                  finished=str(meta.get("finished") or ""), sections=[str(s) for s in meta.get("sections") or []],
                  seed=seed if isinstance(seed, int) else None)
    batch.students = [_student(directory, raw, i) for i, raw in enumerate(meta["students"])]
    return batch
