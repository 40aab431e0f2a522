"""``hfcourse mutants``: how strong the graders are, measured by the mutants of the
solutions they kill."""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

__all__ = ["register", "main"]

_TEXT = {
    "en": {"title": "Mutation score of the graders", "section": "section", "killed": "killed", "total": "total",
           "score": "score", "survivors": "Survivors (mutants no grader test caught)", "none": "every mutant was caught",
           "errors": "mutants whose grading run failed (not counted)", "all": "all",
           "planned": "{n} mutant(s) of {s} section(s) in {r} grading run(s)"},
    "zh": {"title": "评分测试的变异得分", "section": "小节", "killed": "已杀死", "total": "总数", "score": "得分",
           "survivors": "存活的变异体（没有评分测试发现它们）", "none": "所有变异体都被发现了",
           "errors": "评分运行失败的变异体（不计入）", "all": "全部",
           "planned": "{s} 个小节共 {n} 个变异体，{r} 次评分运行"},
}


def register(sub: argparse._SubParsersAction) -> None:
    from hfcourse.mutate.operators import OPERATORS

    p = sub.add_parser("mutants", help="grade mutants of the solutions and report, per section, how many the graders kill")
    p.add_argument("sections", nargs="*", metavar="SECTION", help="section ids (2.6) or chapters (2); default: every ready section")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N generated mutants per section (default: all)")
    p.add_argument("--operators", nargs="+", default=None, choices=list(OPERATORS), metavar="OP",
                   help=f"mutation operators to use (default: all): {', '.join(OPERATORS)}")
    p.add_argument("--no-curated", action="store_true", help="skip the hand-written mutants of tests/mutants/")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="grading runs at once (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=900, metavar="S", help="seconds one grading run may take (default: %(default)s)")
    p.add_argument("--seed", type=int, default=None, help="grading seed of every run (default: random, recorded in the report)")
    p.add_argument("--list", action="store_true", help="only list the mutants, grade nothing")
    p.add_argument("--out", default=None, help="write the JSON report here (rewritten after every grading run)")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.markup import escape

    from hfcourse import manifest
    from hfcourse.mutate import runner

    text = _TEXT.get(args.lang, _TEXT["en"])
    console = Console(stderr=False)
    if args.limit is not None and args.limit < 0 or args.jobs < 1:
        print("error: --limit must be 0 or more and --jobs 1 or more", file=sys.stderr)
        return 2
    course = manifest.load()
    try:
        chosen = course.select(args.sections or None)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    per_section = runner.candidates(course, chosen, limit=args.limit, operators=args.operators,
                                    with_curated=not args.no_curated)
    batches = runner.rounds(per_section)
    n = sum(map(len, per_section.values()))
    console.print(text["planned"].format(n=n, s=len(per_section), r=len(batches)))
    if args.list:
        for mutants in per_section.values():
            for m in mutants:
                console.print(f"{m.section}  {m.file}:{m.line}  [bold]{m.operator}[/]  {escape(m.name or m.mutated)}",
                              highlight=False, soft_wrap=True)
        return 0
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    report = _grade(course, per_section, batches, args, seed, console)
    _print(report, text, console)
    return 0


def _grade(course, per_section, batches, args, seed: int, console) -> dict:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from hfcourse.mutate import runner
    from hfcourse.results import write_atomic

    done: list = []

    def on_round(outcomes: list) -> None:
        done.extend(outcomes)
        killed = sum(o.status in ("killed", "timeout") for o in done)
        progress.update(task, advance=1, description=f"mutants killed {killed}/{len(done)}")
        if args.out:
            partial = runner.report(per_section, done, seed=seed, duration=progress.tasks[0].elapsed or 0)
            write_atomic(Path(args.out), _json(partial))

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("grading mutants", total=len(batches))
        report = runner.run(course, per_section, jobs=args.jobs, timeout=args.timeout, seed=seed, on_round=on_round)
    if args.out:
        write_atomic(Path(args.out), _json(report))
    return report


def _json(report: dict) -> str:
    import json

    return json.dumps(report, ensure_ascii=False, indent=1)


def _print(report: dict, text: dict, console) -> None:
    from rich.table import Table

    table = Table(title=text["title"], title_justify="left")
    for col in ("section", "killed", "total", "score"):
        table.add_column(text[col], justify="left" if col == "section" else "right")
    for s in report["sections"]:
        score = "-" if s["score"] is None else f"{s['score']:.1f}%"
        table.add_row(s["section"], str(s["killed"]), str(s["total"]), score,
                      style="red" if s["score"] is not None and s["score"] < 80 else None)
    overall = "-" if report["score"] is None else f"{report['score']:.1f}%"
    table.add_row(text["all"], str(report["killed"]), str(report["total"]), overall, style="bold")
    console.print(table)
    survivors = [m for s in report["sections"] for m in s["survivors"]]
    console.print(f"[bold]{text['survivors']}[/]" if survivors else text["none"])
    for m in survivors:
        label = f"{m['operator']} ({m['name']})" if m["name"] else m["operator"]
        console.print(f"  {m['section']}  {m['file']}:{m['line']}  {label}: {m['mutated'] or '(deleted)'}",
                      markup=False, highlight=False, soft_wrap=True)
    errors = [m for m in report["mutants"] if m["status"] == "error"]
    if errors:
        console.print(f"[bold]{text['errors']}[/]")
        for m in errors:
            console.print(f"  {m['section']}  {m['file']}:{m['line']}  {m['operator']}: {m['detail']}", markup=False, highlight=False, soft_wrap=True)
