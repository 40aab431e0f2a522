"""Gradescope ``results.json`` (autograder specification: tests[], score, visibility)."""

from __future__ import annotations

import json

from hfcourse.report.faults import fault_lines
from hfcourse.results import CATEGORIES, RunResult, sanitize

__all__ = ["gradescope_json"]


def _output(t, lang: str) -> str:
    if t.status == "passed":
        return ""
    en, zh = CATEGORIES.get(t.category or "", ("", ""))
    lines = [f"[{t.category}] {en}" + (f" / {zh}" if zh else "")]
    if t.message:
        lines.append(t.message_both)
    if t.likely:
        lines.append(f"Likely mistake: {t.likely}")
    if t.likely_zh:
        lines.append(f"可能的错误：{t.likely_zh}")
    lines.append(f"Hint: {t.hint}")
    lines.append(f"提示：{t.hint_zh}")
    if t.output:
        lines += ["", "Your code printed:", t.output[-2000:]]
    return sanitize("\n".join(lines), 100_000)


def gradescope_json(run: RunResult) -> str:
    """The results.json text; hidden tests keep Gradescope's ``hidden`` visibility."""
    titles = {s["id"]: s["title"] for s in run.sections}
    tests = []
    for t in run.tests:
        tests.append({
            "name": sanitize(f"{t.section} {titles.get(t.section, '')}: {t.name}", 500),
            "number": t.section,
            "score": t.points,
            "max_score": t.max_points,
            "status": "passed" if t.status == "passed" else "failed",
            "visibility": t.visibility,
            "output": _output(t, "en"),
            "tags": [f"section:{t.section}"] + ([t.category] if t.category else []) + (["course_fault"] if t.course_fault else []),
            "extra_data": {"section": t.section, "category": t.category or "PASSED", "duration": round(t.duration, 3),
                           "course_fault": t.course_fault, "attempts": t.attempts},
        })
    output = f"hfcourse graded {len(run.sections)} section(s): {run.score:g} / {run.max_score:g}"
    if run.course_faults:
        output = "\n".join((*fault_lines(run), output))
    data = {
        "score": run.score,
        "execution_time": round(run.duration, 2),
        "output": output,
        "extra_data": {"course_fault": bool(run.course_faults), "ungraded": run.ungraded},
        "tests": tests,
        "leaderboard": [
            {"name": f"{b.section} {b.test} ({b.unit}, ratio)", "value": round(b.ratio, 3)} for b in run.benchmarks
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=1)
