"""The HTML class report of a graded batch and each student's feedback page.

``write_class_report(batch_dir)`` writes the instructor's report (``BATCH_DIR/report.html``);
``write_student_page(batch_dir, name)`` writes what one student may see
(``BATCH_DIR/students/<name>/feedback.html``). Both files are self-contained: styles, script and
SVG plots are inline, and the page's Content-Security-Policy forbids loading anything else."""

from __future__ import annotations

from pathlib import Path

from hfcourse.classreport.batch import Batch, BatchError, Student, load_batch
from hfcourse.classreport.render import render_class_report, render_student_page
from hfcourse.results import write_atomic

__all__ = ["Batch", "BatchError", "Student", "load_batch", "render_class_report", "render_student_page",
           "write_class_report", "write_student_page"]


def write_class_report(batch_dir: Path | str, out: Path | str | None = None, *, lang: str = "en") -> Path:
    """Write the class report of ``batch_dir`` to ``out`` (default ``batch_dir/report.html``)."""
    batch = load_batch(batch_dir)
    path = Path(out) if out is not None else batch.directory / "report.html"
    write_atomic(path, render_class_report(batch, lang=lang))
    return path


def write_student_page(batch_dir: Path | str, name: str, out: Path | str | None = None, *, lang: str = "en") -> Path:
    """Write student ``name``'s feedback page (default ``batch_dir/students/<name>/feedback.html``)."""
    batch = load_batch(batch_dir)
    student = batch.student(name)
    if out is None and (student.name in (".", "..") or any(c in student.name for c in "/\\\0")):
        raise BatchError(f"student name {student.name!r} is not a safe directory name: pass --out FILE")
    path = Path(out) if out is not None else batch.directory / "students" / student.name / "feedback.html"
    write_atomic(path, render_student_page(batch, student.name, lang=lang))
    return path
