"""exercism ``results.json`` version 3 (test-runner interface: status, message, tests[] with task_id).

Each section is one task (``task_id`` = its position in the run). Hidden tests show their
message (which never holds expected values) but neither their printed output nor their code."""

from __future__ import annotations

import ast
import json
from functools import lru_cache
from pathlib import Path

from hfcourse.report.faults import fault_notice
from hfcourse.results import CATEGORIES, RunResult, TestResult, sanitize

__all__ = ["exercism_json", "feedback", "ERROR_CATEGORIES"]

ERROR_CATEGORIES = frozenset({"EXCEPTION", "TIMEOUT", "MEMORY", "CRASH", "BAD_OUTPUT", "UNSUPPORTED_TYPE",
                              "RESULT_TOO_BIG", "DISK", "REJECTED", "GRADER_ERROR", "INTERRUPTED"})
"""Categories where the code did not produce a result (exercism's ``error``, not ``fail``)."""

_OUTPUT_LIMIT = 500
_TRUNCATED = " [Output was truncated. Please limit to 500 chars]"
_HIDDEN_CODE = "# hidden test: its code is not shown / 隐藏测试：不显示代码"


def feedback(t: TestResult) -> str:
    """What a failed test tells the student: category, message, likely mistake, hints (EN and ZH)."""
    en, zh = CATEGORIES.get(t.category or "", ("", ""))
    lines = [f"[{t.category}] {en}" + (f" / {zh}" if zh else "")]
    if t.message:
        lines.append(t.message_both)
    if t.likely:
        lines.append(f"Likely mistake: {t.likely}")
    if t.likely_zh:
        lines.append(f"可能的错误：{t.likely_zh}")
    lines += [f"Hint: {t.hint}", f"提示：{t.hint_zh}"]
    return "\n".join(lines)


def _output(t: TestResult) -> str | None:
    if t.visibility != "visible" or not t.output:
        return None
    text = sanitize(t.output, 100_000)
    if len(text) <= _OUTPUT_LIMIT:
        return text
    return text[: _OUTPUT_LIMIT - len(_TRUNCATED)] + _TRUNCATED


@lru_cache(maxsize=64)
def _functions(grader: Path) -> dict[str, str]:
    try:
        source = grader.read_text(encoding="utf-8")
        tree = ast.parse(source)
    except (OSError, SyntaxError, ValueError):
        return {}
    return {node.name: ast.get_source_segment(source, node) or "" for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _test_code(t: TestResult) -> str:
    """The source of a visible test (visible tests ship to students); a note for hidden ones."""
    if t.visibility != "visible":
        return _HIDDEN_CODE
    from hfcourse.paths import course_root

    path, _, func = t.nodeid.partition("::")
    try:
        grader = course_root() / path
    except FileNotFoundError:
        return ""
    return _functions(grader).get(func.split("[", 1)[0], "")


def _status(t: TestResult) -> str:
    if t.status == "passed":
        return "pass"
    return "error" if t.category in ERROR_CATEGORIES else "fail"


def exercism_json(run: RunResult) -> str:
    """The results.json text: ``pass`` when every test passed, ``error`` when none could run."""
    tasks = {s["id"]: i + 1 for i, s in enumerate(run.sections)}
    tests = [{
        "name": f"{t.section} {t.name}",
        "status": _status(t),
        "message": None if t.status == "passed" else sanitize(feedback(t), 65535),
        "output": _output(t),
        "test_code": _test_code(t),
        "task_id": tasks.get(t.section, 0),
    } for t in run.tests]
    message = None
    if not run.tests:
        status = "error"
        message = "; ".join(run.errors) or "no test ran / 没有运行任何测试"
    elif run.interrupted:
        status = "error"
        message = "grading was interrupted: the results are partial / 评分被中断：结果不完整"
    elif run.course_faults:
        status = "error"
        message = fault_notice(run)
    else:
        status = "pass" if all(t["status"] == "pass" for t in tests) else "fail"
    data = {"version": 3, "status": status, "message": sanitize(message, 65535) if message else None,
            "tests": tests}
    return json.dumps(data, ensure_ascii=False, indent=1)
