"""CSV gradebooks: one run as section rows, and a graded batch as student rows."""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable

from hfcourse.results import RunResult

__all__ = ["csv_gradebook", "batch_gradebook", "RUN_COLUMNS"]

RUN_COLUMNS = ("section", "title", "title_zh", "score", "max_score", "tests", "passed", "failed_categories", "ungraded")
"""``max_score`` leaves out the points of tests the course failed (GRADER_ERROR); ``ungraded`` holds them."""


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _write(rows: Iterable[Iterable[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def csv_gradebook(run: RunResult) -> str:
    """One row per section: score, maximum, test counts and the categories of its failures."""
    rows: list[list[Any]] = [list(RUN_COLUMNS)]
    for s in run.sections:
        tests = [t for t in run.tests if t.section == s["id"]]
        categories: dict[str, int] = {}
        for t in tests:
            if t.status != "passed":
                categories[t.category or "FAILED"] = categories.get(t.category or "FAILED", 0) + 1
        most = run.section_max(s["id"])
        rows.append([s["id"], s.get("title", ""), s.get("title_zh", ""), _number(run.section_score(s["id"])),
                     _number(most), len(tests), sum(t.status == "passed" for t in tests),
                     " ".join(f"{k}:{v}" for k, v in sorted(categories.items())), _number(s["max_points"] - most)])
    return _write(rows)


def batch_gradebook(students: list[dict[str, Any]], sections: list[str],
                    section_scores: dict[str, dict[str, float]]) -> str:
    """``student, score, max_score, <one column per section id>, status``; an ungraded student's
    scores are empty cells, not zeros. ``status`` is ``course_fault`` where the grader's own code
    failed in some test (not scored; grade that student again)."""
    rows: list[list[Any]] = [["student", "score", "max_score", *sections, "status"]]
    for s in students:
        per = section_scores.get(s["name"], {})
        rows.append([s["name"], _number(s.get("score")), _number(s.get("max_score")),
                     *(_number(per.get(sid)) for sid in sections), "course_fault" if s.get("course_faults") else s["status"]])
    return _write(rows)
