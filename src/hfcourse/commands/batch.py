"""``hfcourse grade-batch SUBMISSIONS``: grade a class, one report per student and a gradebook."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register"]

_TEXT = {
    "en": {"grading": "grading", "skipped": "unchanged since the last run: skipped (--force re-grades)",
           "student": "student", "score": "score", "status": "status", "time": "time (s)",
           "title": "grade-batch", "ignored": "ignored (not a directory, .zip or .ipynb file)",
           "totals": "{graded} graded, {skipped} skipped as unchanged, {errors} error(s) — results in {out}",
           "report": "class report written to {path}", "report_failed": "the class report could not be written: {exc}",
           "faults": "the grader itself failed for {n} student(s), not by their mistake (those tests are not scored): "
                     "{names}. Tell them, and grade again: the next run re-grades them even if unchanged."},
    "zh": {"grading": "评分中", "skipped": "自上次评分后未改变：已跳过（--force 重新评分）",
           "student": "学生", "score": "得分", "status": "状态", "time": "用时（秒）",
           "title": "批量评分", "ignored": "已忽略（不是目录、.zip 或 .ipynb 文件）",
           "totals": "已评分 {graded}，未改变跳过 {skipped}，出错 {errors} — 结果在 {out}",
           "report": "班级报告已写入 {path}", "report_failed": "无法生成班级报告：{exc}",
           "faults": "评分程序自身在 {n} 名学生的评分中出错，不是他们的错误（这些测试不计分）：{names}。"
                     "请告知他们并重新评分：下次运行会重新评这些学生，即使提交未改变。"},
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("grade-batch", help="grade a folder of submissions (one directory, .zip or .ipynb per student)",
                       description="Grade every submission in SUBMISSIONS in parallel, each in its own sandboxed "
                                   "process; write one report per student, batch.json and gradebook.csv. "
                                   "Re-running skips unchanged submissions (but re-grades those the grader failed). Exit 0 whenever "
                                   "the batch ran, 3 when the grader's own code failed for some student (listed).")
    p.add_argument("submissions", metavar="SUBMISSIONS", help="folder with one directory, .zip or .ipynb file per student")
    p.add_argument("--out", default=None, help="output folder (default: SUBMISSIONS-graded next to SUBMISSIONS)")
    p.add_argument("--sections", nargs="*", default=None, metavar="S",
                   help="section ids (2.6) or chapters (2); default: every ready section")
    p.add_argument("--jobs", type=int, default=None,
                   help="gradings at a time (default: the number of cores, at most one per 3 GiB of free memory)")
    p.add_argument("--force", action="store_true", help="re-grade submissions that are unchanged since the last run")
    p.add_argument("--seed", type=int, default=None, help="one seed for every student (default: a fresh secret each)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds one student's grading may take (default: 300 + 120 per section)")
    p.add_argument("--no-report", action="store_true", help="do not write the HTML class report")
    p.set_defaults(func=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from hfcourse.batch import BatchError, run_batch

    if args.jobs is not None and args.jobs < 1:
        print("error: --jobs must be 1 or more", file=sys.stderr)
        return 2
    if args.timeout is not None and args.timeout <= 0:
        print("error: --timeout must be a positive number of seconds", file=sys.stderr)
        return 2
    text = _TEXT[args.lang]
    console = Console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(text["grading"], total=0)

        def progress(event: str, sub: Any, entry: dict) -> None:
            if event in ("queued", "skipped", "error"):
                bar.update(task, total=(bar.tasks[0].total or 0) + 1)
            if event == "queued":
                return
            bar.advance(task)
            bar.console.print(_line(event, entry, text), highlight=False)

        try:
            batch = run_batch(args.submissions, out=args.out, sections=args.sections, jobs=args.jobs,
                              force=args.force, seed=args.seed, timeout=args.timeout, progress=progress)
        except BatchError as exc:
            bar.stop()
            print(f"error: {exc}", file=sys.stderr)
            return 2
    for name in batch.ignored:
        console.print(f"  {name}: {text['ignored']}", highlight=False)
    Console().print(_summary(batch, text))
    entries = list(batch.entries.values())
    errors = sum(e["status"] == "error" for e in entries)
    skipped = len(batch.skipped)
    console.print(text["totals"].format(graded=len(entries) - errors - skipped, skipped=skipped, errors=errors,
                                        out=batch.out), highlight=False)
    faults = batch.course_faults()
    if faults:
        names = "; ".join(f"{name} ({', '.join(tests)})" for name, tests in faults.items())
        console.print(text["faults"].format(n=len(faults), names=names), style="bold magenta", highlight=False)
    if not args.no_report:
        _class_report(batch.out, console, text)
    return 3 if faults else 0


def _line(event: str, entry: dict, text: dict[str, str]) -> str:
    if event == "skipped":
        return f"= {entry['name']}: {entry['score']:g} / {entry['max_score']:g} — {text['skipped']}"
    if entry["status"] == "error":
        return f"✗ {entry['name']}: {entry['error']}"
    if entry.get("course_faults"):
        return f"! {entry['name']}: {entry['score']:g} / {entry['max_score']:g} — GRADER_ERROR: {', '.join(entry['course_faults'])}"
    return f"✓ {entry['name']}: {entry['score']:g} / {entry['max_score']:g} ({entry['duration']:.1f} s)"


def _summary(batch: Any, text: dict[str, str]):
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"hfcourse {text['title']}", title_justify="left")
    for head in (text["student"], text["score"], *batch.sections, text["status"], text["time"]):
        table.add_column(head, justify="left" if head in (text["student"], text["status"]) else "right")
    for entry in batch.entries.values():
        per = batch.section_scores.get(entry["name"], {})
        graded = entry["status"] == "graded"
        score = f"{entry['score']:g} / {entry['max_score']:g}" if graded else "—"
        style = "green" if graded and entry["score"] >= entry["max_score"] else ("red" if not graded else None)
        table.add_row(entry["name"], Text(score, style=style or ""),
                      *(f"{per[s]:g}" if s in per else "—" for s in batch.sections),
                      Text(entry["status"], style="red" if not graded else ""), f"{entry['duration']:.1f}")
    return table


def _class_report(out: Any, console: Any, text: dict[str, str]) -> None:
    """The HTML class report, where the classreport package is installed; a failure only warns."""
    try:
        from hfcourse.classreport import write_class_report
    except ImportError:
        return
    try:
        path = write_class_report(out)
    except Exception as exc:  # the batch's results stand even when the report cannot be drawn
        console.print(text["report_failed"].format(exc=f"{type(exc).__name__}: {exc}"), style="yellow", highlight=False)
        return
    console.print(text["report"].format(path=path), highlight=False)
