"""GitHub Actions: a markdown step summary and workflow-command annotations.

Every failed *visible* test becomes an ``::error file=…,title=…::message`` line on the student's
module; hidden tests get no annotation and only their category in the summary (never their message).
When ``$GITHUB_STEP_SUMMARY`` names a file, the summary is appended to it and the rendered text
holds the annotations and a score notice only; otherwise the summary follows the annotations."""

from __future__ import annotations

import html
import os
from pathlib import Path

from hfcourse.report.faults import fault_notice
from hfcourse.results import CATEGORIES, RunResult, TestResult, sanitize

__all__ = ["github_report", "step_summary", "annotations"]


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell: HTML-escaped, pipes escaped, lines joined by <br>."""
    return html.escape(sanitize(text, 1000), quote=False).replace("|", "\\|").replace("\n", "<br>")


def _modules() -> dict[str, str]:
    try:
        from hfcourse import manifest

        return {s.id: s.module for s in manifest.load().sections}
    except (FileNotFoundError, ValueError):
        return {}


def _module_path(run: RunResult, module: str) -> str:
    """The graded module's path as the workflow sees it: relative to the workspace when inside it."""
    if run.target in ("solutions", "exercises"):
        return f"{run.target}/{module}"
    base = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd()).resolve()
    target = Path(run.target)
    if target.suffix == ".zip" or not target.is_absolute():
        return module
    try:
        return (target / module).relative_to(base).as_posix()
    except ValueError:
        return module


def annotations(run: RunResult) -> list[str]:
    """``::error`` lines for failed visible tests, and one ``::notice`` with the score."""
    modules = _modules()
    lines = []
    for t in run.tests:
        if t.status == "passed" or t.visibility != "visible":
            continue
        en, zh = CATEGORIES.get(t.category or "", ("", ""))
        title = sanitize(f"{t.section} {t.name}: {t.category}", 500)
        body = [f"{en} / {zh}" if en else "", t.message_both,
                f"Likely mistake: {t.likely}" if t.likely else "", f"可能的错误：{t.likely_zh}" if t.likely_zh else "",
                f"Hint: {t.hint}", f"提示：{t.hint_zh}"]
        message = sanitize("\n".join(line for line in body if line), 4000)
        where = f"file={_escape_property(_module_path(run, modules[t.section]))}," if t.section in modules else ""
        lines.append(f"::error {where}title={_escape_property(title)}::{_escape_data(message)}")
    if run.course_faults:
        lines.append(f"::error title=hfcourse: the grader failed (not your mistake)::{_escape_data(fault_notice(run))}")
    hidden_failed = sum(t.status != "passed" and t.visibility != "visible" for t in run.tests)
    notice = f"Points {run.score:g}/{run.max_score:g} / 得分 {run.score:g}/{run.max_score:g}"
    if hidden_failed:
        notice += f"; {hidden_failed} hidden test(s) failed / {hidden_failed} 个隐藏测试未通过"
    lines.append(f"::notice title=hfcourse::{_escape_data(notice)}")
    return lines


def _row(t: TestResult) -> str:
    mark = "✅" if t.status == "passed" else "⚠️" if t.course_fault else "❌"
    visible = t.visibility == "visible"
    detail = ""
    if t.status != "passed":
        en, zh = CATEGORIES.get(t.category or "", ("", ""))
        detail = f"**{t.category}** {en} / {zh}"
        if visible and t.message:
            detail += "\n" + t.message_both
        detail += f"\nHint: {t.hint}\n提示：{t.hint_zh}"
    kind = "visible / 公开" if visible else "hidden / 隐藏"
    return f"| {mark} | {_cell(t.name)} | {kind} | {t.points:g} / {t.max_points:g} | {_cell(detail)} |"


def step_summary(run: RunResult) -> str:
    """The markdown summary: the total, then one table per section."""
    out = [f"## hfcourse — score / 成绩: {run.score:g} / {run.max_score:g}", ""]
    if run.interrupted:
        out += ["> ⚠️ Grading was interrupted: the results are partial. / 评分被中断：结果不完整。", ""]
    if run.course_faults:
        out += ["> ⚠️ " + _cell(fault_notice(run)), ""]
    for s in run.sections:
        tests = [t for t in run.tests if t.section == s["id"]]
        passed = sum(t.status == "passed" for t in tests)
        out += [f"### {s['id']} {_cell(s.get('title', ''))} · {_cell(s.get('title_zh', ''))} — "
                f"{run.section_score(s['id']):g} / {run.section_max(s['id']):g}", "",
                f"{passed}/{len(tests)} tests passed / 通过 {passed}/{len(tests)} 个测试", "",
                "| | test / 测试 | visibility / 可见性 | points / 得分 | details / 详情 |",
                "|---|---|---|---|---|", *map(_row, tests), ""]
    if run.benchmarks:
        out += ["### Throughput / 吞吐量", "",
                "| section / 小节 | test / 测试 | yours / 你的 | reference / 参考 | ratio / 比值 | threshold / 阈值 |",
                "|---|---|---|---|---|---|"]
        out += [f"| {b.section} | {_cell(b.test)} | {b.student:,.1f} {_cell(b.unit)} | {b.reference:,.1f} | "
                f"{b.ratio:.2f} | {b.threshold:.2f} |" for b in run.benchmarks]
        out.append("")
    return "\n".join(out)


def github_report(run: RunResult) -> str:
    """Annotations, plus the summary (appended to ``$GITHUB_STEP_SUMMARY`` when that is set)."""
    lines = annotations(run)
    summary = step_summary(run)
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(summary + "\n")
        return "\n".join(lines) + "\n"
    return "\n".join(lines) + "\n\n" + summary
