"""The terminal report: one table per section, failures with their likely mistake and hint."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from hfcourse.results import CATEGORIES, RunResult, sanitize

__all__ = ["print_table"]

_MARK = {"passed": ("✓", "green"), "failed": ("✗", "red")}


def _summary(run: RunResult, lang: str) -> Table:
    table = Table(title="hfcourse — " + ("成绩" if lang == "zh" else "score"), title_justify="left")
    table.add_column("section" if lang == "en" else "小节")
    table.add_column("title" if lang == "en" else "标题")
    table.add_column("points" if lang == "en" else "得分", justify="right")
    table.add_column("tests" if lang == "en" else "测试", justify="right")
    for s in run.sections:
        tests = [t for t in run.tests if t.section == s["id"]]
        passed = sum(t.status == "passed" for t in tests)
        most = run.section_max(s["id"])
        full = s["score"] >= most
        style = "green" if full else ("yellow" if s["score"] else "red")
        points = f"{s['score']:g} / {most:g}"
        if most < s["max_points"]:
            style, points = "magenta", points + (" (+未评分)" if lang == "zh" else " (+ungraded)")
        table.add_row(s["id"], s["title_zh"] if lang == "zh" else s["title"], Text(points, style=style),
                      f"{passed}/{len(tests)}")
    table.add_section()
    table.add_row("", "total" if lang == "en" else "总计", f"{run.score:g} / {run.max_score:g}", "")
    return table


def print_table(run: RunResult, *, lang: str = "en", show_hidden: bool = True, console: Console | None = None) -> None:
    """Print the summary, each failing test, and the benchmark figures."""
    console = console or Console()
    console.print(_summary(run, lang))
    for t in run.tests:
        if t.status == "passed":
            continue
        mark, style = _MARK["failed"]
        if t.course_fault:
            mark, style = "!", "magenta"
        en, zh = CATEGORIES.get(t.category or "", ("", ""))
        console.print(Text(f"{mark} {t.section} {t.name} [{t.category}] ", style=style) + Text(zh if lang == "zh" else en))
        if t.category == "NOT_ATTEMPTED":
            console.print(Text("   " + (sanitize(t.message).splitlines() or [""])[0], style="dim"))
            continue
        if t.visibility == "hidden" and not show_hidden:
            console.print("   (hidden test: details are not shown)" if lang == "en" else "   （隐藏测试：不显示细节）")
        else:
            message = sanitize(t.message_zh if lang == "zh" and t.message_zh else t.message)
            for line in message.splitlines()[:6]:
                console.print(Text("   " + line))
            likely = sanitize(t.likely_zh if lang == "zh" and t.likely_zh else t.likely)
            if likely:
                console.print(Text(("   可能的错误：" if lang == "zh" else "   likely mistake: ") + likely, style="yellow"))
        console.print(Text(("   提示：" + t.hint_zh) if lang == "zh" else ("   hint: " + t.hint), style="cyan"))
    for b in run.benchmarks:
        ok = b.ratio >= b.threshold
        console.print(Text(f"{'✓' if ok else '✗'} {b.section} {b.test}: {b.student:,.1f} {b.unit} "
                           f"(reference {b.reference:,.1f}; ratio {b.ratio:.2f}, threshold {b.threshold:.2f})",
                           style="green" if ok else "red"))
    if run.course_faults:
        console.print(Text(fault_notice(run, lang), style="bold magenta"))
    facts = f"target {run.target} · sandbox {run.sandbox.get('level', '?')} · {run.duration:.1f} s"
    if run.interrupted:
        facts += " · INTERRUPTED: partial results"
    console.print(Text(facts, style="dim"))
