"""The ``hfcourse`` command. Each subcommand delegates to a plain function."""

from __future__ import annotations

import argparse
import locale
import os
import sys
from pathlib import Path

__all__ = ["main"]


def _default_lang() -> str:
    lang = os.environ.get("HFCOURSE_LANG") or os.environ.get("LC_ALL") or os.environ.get("LANG") or (locale.getlocale()[0] or "")
    return "zh" if lang.lower().startswith("zh") else "en"


def _cmd_list(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from hfcourse import manifest

    course = manifest.load()
    table = Table(title=course.title_zh if args.lang == "zh" else course.title, title_justify="left")
    for col in ("id", "title", "标题", "module", "points", "status"):
        table.add_column(col)
    for s in course.sections:
        table.add_row(s.id, s.title, s.title_zh, s.module, f"{s.points:g}", s.status,
                      style=None if s.ready else "dim")
    Console().print(table)
    return 0


def _cmd_stubs(args: argparse.Namespace) -> int:
    from hfcourse import manifest, stubs

    course = manifest.load()
    try:
        if args.check:
            drift = stubs.check(course)
            for d in drift:
                print(f"{d.path.relative_to(course.root)}: {d.reason}", file=sys.stderr)
            if drift:
                return 1
            print("exercises/ is in step with solutions/")
            return 0
        changed = stubs.generate(course)
    except stubs.StubError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"wrote {path.relative_to(course.root)}")
    print(f"{len(changed)} exercise file(s) updated")
    return 0


def _emit(run, fmt: str, out: str | None, lang: str, show_hidden: bool) -> None:
    from hfcourse.report import print_table, render
    from hfcourse.results import write_atomic

    if fmt == "table":
        print_table(run, lang=lang, show_hidden=show_hidden)
        if out:
            write_atomic(Path(out), run.to_json())
        return
    text = render(run, fmt)
    if out:
        write_atomic(Path(out), text)
        print(f"{run.score:g} / {run.max_score:g} — report written to {out}", file=sys.stderr)
    else:
        print(text)
    if run.course_faults:
        from hfcourse.report.faults import fault_notice

        print(fault_notice(run, lang), file=sys.stderr)


COURSE_FAULT = 3
"""Exit status of a grading that ran but in which the course's own code failed (GRADER_ERROR
tests, retried once): those tests are not scored, and the run should be graded again."""


def _jobs(text: str) -> int:
    if text == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"--jobs {text}: give a number of processes >= 1, or auto")
    return value


def _cmd_grade(args: argparse.Namespace) -> int:
    from hfcourse.grade import GradeError, grade

    try:
        run = grade(target=args.target, sections=args.sections, seed=args.seed, verbose=args.verbose, jobs=args.jobs)
    except GradeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _emit(run, args.format, args.out, args.lang, show_hidden=True)
    return COURSE_FAULT if run.course_faults else 0


def _served(args: argparse.Namespace, argv: list[str]) -> int | None:
    """Run the command in the check server when one serves it: every check, and a grade when
    ``HFCOURSE_SERVER=1`` (a test suite or a script that grades many times). None: run it here."""
    from hfcourse import server

    wanted = args.func is _cmd_check or (args.func is _cmd_grade and os.environ.get("HFCOURSE_SERVER") == "1")
    if not (wanted and server.enabled()):
        return None
    from hfcourse.paths import course_root

    return server.run_remote(course_root(), argv)


def _cmd_check(args: argparse.Namespace) -> int:
    from hfcourse import server
    from hfcourse.paths import course_root

    code = _check_here(args)
    if server.enabled():  # a terminal, a redirect or a notebook alike: the next check is served warm
        try:
            server.start(course_root())
        except OSError as exc:
            print(f"note: the check server could not start ({exc}); checks run without it until "
                  "`hfcourse server start` works", file=sys.stderr)
    return code


def _check_here(args: argparse.Namespace) -> int:
    import contextlib
    import io

    from hfcourse.commands.student import after_check
    from hfcourse.grade import GradeError, grade

    if not args.sections:
        from hfcourse.commands.student import default_sections

        args.sections = default_sections(args.lang)
        if args.sections is None:
            return 0
    pytest_output = io.StringIO()
    try:
        with contextlib.redirect_stdout(sys.stdout if args.verbose else pytest_output):
            run = grade(target=args.target, sections=args.sections, verbose=args.verbose)
    except GradeError as exc:
        print(pytest_output.getvalue(), end="", file=sys.stderr)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _emit(run, "table", None, args.lang, show_hidden=False)
    after_check(run, args.lang)
    if run.course_faults:
        return COURSE_FAULT
    return 0 if run.score >= run.max_score else 1


def _cmd_fixtures(args: argparse.Namespace) -> int:
    from hfcourse import fixtures

    if args.action == "build":
        built = fixtures.build(args.names or None, force=args.force)
        for name, path in built.items():
            print(f"{name}: {path}")
        return 0
    if args.action == "path":
        if not args.names:
            print("error: name a fixture: hfcourse fixtures path tiny-sst2", file=sys.stderr)
            return 2
        for name in args.names:
            print(fixtures.path(name, build=not args.no_build))
        return 0
    if args.action == "digest":
        results = fixtures.check_digests(args.names or None, record=args.record)
        bad = [name for name, text in results.items() if text.startswith("MISMATCH")]
        for name, text in results.items():
            print(f"{name:<26} {text or 'same as recorded'}")
        return 1 if bad else 0
    for row in fixtures.status():
        print(f"{row['name']:<20} {row['kind']:<22} {'built' if row['built'] else 'missing':<8} {row['path']}")
    return 0


def _cmd_hub(args: argparse.Namespace) -> int:
    from hfcourse.services import hub

    return hub.main(args.hub_args)


def _cmd_tgi(args: argparse.Namespace) -> int:
    from hfcourse.services import tgi

    return tgi.main(args.tgi_args)


def _parser() -> argparse.ArgumentParser:
    from hfcourse.report import FORMATS

    p = argparse.ArgumentParser(prog="hfcourse", description="Exercises and autograder for the Hugging Face NLP course.")
    p.add_argument("--lang", choices=("en", "zh"), default=_default_lang(), help="language of titles, hints and messages (default: from the locale)")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="list the course's sections").set_defaults(func=_cmd_list)

    s = sub.add_parser("stubs", help="write exercises/ from solutions/")
    s.add_argument("--check", action="store_true", help="only check that exercises/ is in step; exit 1 if not")
    s.set_defaults(func=_cmd_stubs)

    g = sub.add_parser("grade", help="grade a target and report scores (exit 0 whatever the score)")
    g.add_argument("--target", default="solutions", help="solutions, exercises, or a submission DIR laid out like exercises/ (default: %(default)s)")
    g.add_argument("--sections", nargs="*", default=None, metavar="S", help="section ids (2.6) or chapters (2); default: every ready section")
    g.add_argument("--format", choices=FORMATS, default="table", help="report format (default: %(default)s)")
    g.add_argument("--out", default=None, help="write the report to this file (table: the JSON result)")
    g.add_argument("--seed", type=int, default=None, help="repeat a grading with the seed its JSON report recorded")
    g.add_argument("--jobs", type=_jobs, default=1, metavar="N",
                   help="grade the sections in N parallel processes (auto: one per core); default: %(default)s")
    g.add_argument("-v", "--verbose", action="store_true")
    g.set_defaults(func=_cmd_grade)

    c = sub.add_parser("check", help="check your work on sections or chapters: hfcourse check 2.2")
    c.add_argument("sections", nargs="*", metavar="SECTION", help="default: the first section without full marks")
    c.add_argument("--target", default="exercises",
                   help="exercises (default), a submission DIR or .zip, or a section's notebook .ipynb")
    c.add_argument("--lang", choices=("en", "zh"), default=argparse.SUPPRESS,
                   help="language of the report (also accepted before the command)")
    c.add_argument("-v", "--verbose", action="store_true")
    c.set_defaults(func=_cmd_check)

    f = sub.add_parser("fixtures", help="build, list or locate the offline fixture models, tokenizers and data sets")
    f.add_argument("action", choices=("build", "list", "path", "digest"),
                   help="digest: compare the built fixtures with fixtures/digests.json (--record: record them)")
    f.add_argument("names", nargs="*")
    f.add_argument("--force", action="store_true", help="rebuild even if cached")
    f.add_argument("--no-build", action="store_true", help="with path: fail instead of building")
    f.add_argument("--record", action="store_true", help="with digest: record the built fixtures' digests")
    f.set_defaults(func=_cmd_fixtures)

    h = sub.add_parser("hub", help="run the local Hub stand-in: hfcourse hub serve [--dir D] [--port P] [--seed-fixtures]")
    h.add_argument("action", choices=("serve",))
    h.add_argument("hub_args", nargs=argparse.REMAINDER, help="options of the stand-in (--dir, --port, --token, --seed-fixtures)")
    h.set_defaults(func=_cmd_hub)

    t = sub.add_parser("tgi", help="run the 2.8 inference server stand-in: hfcourse tgi serve [--port P] [--latency S]")
    t.add_argument("action", choices=("serve",))
    t.add_argument("tgi_args", nargs=argparse.REMAINDER, help="options of the stand-in (--port, --latency, --dir)")
    t.set_defaults(func=_cmd_tgi)

    from hfcourse.commands import register_all

    register_all(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    try:
        served = _served(args, argv)
        if served is not None:
            return served
        return args.func(args)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
