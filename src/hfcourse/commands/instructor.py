"""Instructor commands: validate the course, publish the student release, build the
Gradescope bundle and the GitHub Classroom workflow."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["register"]


def _say(args: argparse.Namespace, en: str, zh: str) -> None:
    print(zh if args.lang == "zh" else en)


def _cmd_validate(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from hfcourse import validate

    console = Console()
    zh = args.lang == "zh"
    course = validate.load_course()
    if isinstance(course, validate.Problem):
        problems = [course]
    else:
        try:
            chosen = course.select(args.sections) if args.sections else None
        except KeyError as exc:
            print(f"error: {exc.args[0]}", file=sys.stderr)
            return 2
        console.print("静态检查：清单、解答、练习、评分模块…" if zh else "static checks: manifest, solutions, exercises, graders…")
        problems = validate.check_static(course, chosen)
        if args.flakes and not any(not p.note for p in problems):
            from hfcourse import flakes

            found, _ = flakes.sweep(course, chosen or [s for s in course.sections if s.ready], seeds=args.seeds,
                                    log=lambda line: console.print(line, markup=False), out=args.out)
            problems += found
        elif not args.static and not any(not p.note for p in problems):
            problems += validate.check_dynamic(course, chosen or [s for s in course.sections if s.ready],
                                               log=lambda line: console.print(line, markup=False), seeds=args.seeds)
        elif not args.static:
            console.print("静态检查发现问题：跳过评分检查" if zh else "static problems found: grading checks skipped")
    table = Table(title="hfcourse validate", title_justify="left", show_lines=True)
    for col in (("位置", "问题", "修复") if zh else ("where", "problem", "fix:")):
        table.add_column(col, overflow="fold")
    for p in problems:
        text, fix = p.text(args.lang)
        table.add_row(p.where, ("注：" if zh else "note: ") + text if p.note else text, fix,
                      style="dim" if p.note else None)
    failures = sum(not p.note for p in problems)
    if problems:
        console.print(table)
    if failures:
        console.print(f"[red]{failures} 个问题[/red]" if zh else f"[red]{failures} problem(s)[/red]")
        return 1
    console.print("[green]课程一致[/green]" if zh else "[green]the course is consistent[/green]")
    return 0


def _cmd_release(args: argparse.Namespace) -> int:
    import shutil

    from hfcourse import manifest
    from hfcourse.release import ReleaseError, build_release

    out = Path(args.out)
    try:
        summary = build_release(manifest.load(), out, force=args.force, classroom=args.classroom)
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    kept = sum(len(s["public_tests"]) for s in summary["sections"])
    hidden = sum(s["hidden_tests"] + len(s["visible_tests_needing_the_solution"]) for s in summary["sections"])
    n = len(summary["sections"])
    _say(args, f"release written to {out}: {n} section(s), {kept} public test(s); {hidden} test(s) stay hidden",
         f"发布已写入 {out}：{n} 个小节，{kept} 个公开测试；{hidden} 个测试保持隐藏")
    for s in summary["sections"]:
        if s["visible_tests_needing_the_solution"]:
            names = ", ".join(s["visible_tests_needing_the_solution"])
            _say(args, f"  {s['id']}: visible but kept back (they compare with the reference solution): {names}",
                 f"  {s['id']}：公开但未发布（需要与参考解答比较）：{names}")
    if args.zip:
        archive = shutil.make_archive(str(out.resolve()), "zip", root_dir=out.resolve().parent, base_dir=out.resolve().name)
        _say(args, f"zip written to {archive}", f"zip 已写入 {archive}")
    return 0


def _chosen(args: argparse.Namespace):
    from hfcourse import manifest

    course = manifest.load()
    return course, (course.select(args.sections) if args.sections else None)


def _cmd_gradescope_bundle(args: argparse.Namespace) -> int:
    from hfcourse.gradescope_bundle import BundleError, build_bundle

    try:
        course, chosen = _chosen(args)
        names = build_bundle(course, Path(args.out), chosen)
    except (KeyError, BundleError) as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    sections = " ".join(s.id for s in chosen) if chosen else ""
    _say(args, f"{args.out}: {len(names)} files; grades {sections or 'every ready section'}. Upload it as the "
               "assignment's autograder (Configure Autograder > Zip file upload).",
         f"{args.out}：{len(names)} 个文件；评分 {sections or '所有 ready 小节'}。在作业的 Configure Autograder > "
         "Zip file upload 中上传它。")
    return 0


def _cmd_classroom_workflow(args: argparse.Namespace) -> int:
    from hfcourse.gradescope_bundle import classroom_workflow

    try:
        _chosen(args)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if out.exists() and not args.force:
        print(f"error: {out} exists: pass --force to replace it", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(classroom_workflow().replace("{{sections}}", " ".join(args.sections or ())), encoding="utf-8")
    _say(args, f"wrote {out}: commit it as .github/workflows/classroom.yml of the assignment's template repository, "
               "and set vars.HFCOURSE_COURSE_REPO and secrets.HFCOURSE_COURSE_TOKEN",
         f"已写入 {out}：把它作为作业模板仓库的 .github/workflows/classroom.yml 提交，并设置 "
         "vars.HFCOURSE_COURSE_REPO 和 secrets.HFCOURSE_COURSE_TOKEN")
    return 0


def _cmd_classroom_report(args: argparse.Namespace) -> int:
    import os

    from hfcourse.gradescope_bundle import classroom_output
    from hfcourse.report import render
    from hfcourse.results import RunResult

    try:
        run = RunResult.from_json(Path(args.report).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError) as exc:
        print(f"error: {args.report} is not a report of `hfcourse grade --format json`: {exc}", file=sys.stderr)
        return 2
    print(render(run, "github"), end="")
    line = classroom_output(run)
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    else:
        print(line)
    print(f"Points {run.score:g}/{run.max_score:g}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    v = sub.add_parser("validate", help="check manifest, solutions, exercises and graders agree; solutions pass, stubs are NOT_ATTEMPTED")
    v.add_argument("sections", nargs="*", metavar="SECTION", help="section ids or chapters (default: every ready section and the whole tree)")
    v.add_argument("--static", action="store_true", help="only the checks that grade nothing (fast; run in CI)")
    v.add_argument("--seeds", type=int, default=1, metavar="N",
                   help="grade the solutions with N random seeds and report every test that fails on any (finds graders "
                        "whose random inputs sometimes fail the reference; default: 1)")
    v.add_argument("--flakes", action="store_true",
                   help="the flake sweep instead of the grading checks: the --seeds seeds, half of them graded twice at "
                        "once beside a CPU-bound process, the first on a freshly built fixture cache; every failure, a "
                        "pass only on the retry, and a slowest call over half its limit is a problem (nox -s flakes)")
    v.add_argument("--out", default=None, metavar="FILE", help="with --flakes: write the sweep's figures to FILE (JSON)")
    v.set_defaults(func=_cmd_validate)

    r = sub.add_parser("release", help="write the student repository: exercises, public tests, fixtures, harness; no solutions")
    r.add_argument("out", metavar="OUT", help="directory to write (outside the course checkout)")
    r.add_argument("--force", action="store_true", help="replace OUT if it exists")
    r.add_argument("--zip", action="store_true", help="also write OUT.zip")
    r.add_argument("--classroom", action="store_true", help="include the GitHub Classroom workflow (.github/workflows/classroom.yml)")
    r.set_defaults(func=_cmd_release)

    g = sub.add_parser("gradescope-bundle", help="write the Gradescope autograder zip (setup.sh, run_autograder, the course)")
    g.add_argument("out", metavar="OUT.zip")
    g.add_argument("--sections", nargs="*", default=None, metavar="S", help="section ids or chapters (default: every ready section)")
    g.set_defaults(func=_cmd_gradescope_bundle)

    w = sub.add_parser("classroom-workflow", help="write the GitHub Classroom workflow that grades with the hidden graders")
    w.add_argument("out", metavar="OUT.yml")
    w.add_argument("--sections", nargs="*", default=None, metavar="S", help="what the assignment grades (default: every ready section)")
    w.add_argument("--force", action="store_true", help="replace OUT if it exists")
    w.set_defaults(func=_cmd_classroom_workflow)

    c = sub.add_parser("classroom-report", help="in a Classroom workflow: annotations, step summary and the points for the reporter")
    c.add_argument("report", metavar="REPORT.json", help="written by hfcourse grade --format json --out REPORT.json")
    c.set_defaults(func=_cmd_classroom_report)
