"""``hfcourse report BATCH_DIR``: the HTML class report of a graded batch, or one student's page."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def _cmd_report(args: argparse.Namespace) -> int:
    from hfcourse.classreport import BatchError, load_batch, write_class_report, write_student_page

    lang = getattr(args, "lang", "en")
    try:
        if args.all_students and args.out:
            print("error: --out names one file; with --all-students each page goes to "
                  "BATCH_DIR/students/NAME/feedback.html", file=sys.stderr)
            return 2
        if args.all_students:
            failed = 0
            for student in load_batch(args.batch_dir).students:
                try:
                    print(f"{student.name}: {write_student_page(args.batch_dir, student.name, lang=lang)}")
                except BatchError as exc:
                    failed += 1
                    print(f"error: {exc}", file=sys.stderr)
            return 1 if failed else 0
        if args.student is not None:
            path = write_student_page(args.batch_dir, args.student, args.out, lang=lang)
            print(f"feedback page of {args.student} written to {path}")
        else:
            path = write_class_report(args.batch_dir, args.out, lang=lang)
            print(f"class report written to {path}")
    except BatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("report", help="HTML class report of a graded batch (grade-batch's output directory), "
                                      "or a student's feedback page with --student")
    r.add_argument("batch_dir", metavar="BATCH_DIR", help="the directory hfcourse grade-batch wrote")
    who = r.add_mutually_exclusive_group()
    who.add_argument("--student", metavar="NAME", default=None,
                     help="write only what this student may see (default out: BATCH_DIR/students/NAME/feedback.html)")
    who.add_argument("--all-students", action="store_true",
                     help="write every student's feedback page to BATCH_DIR/students/NAME/feedback.html")
    r.add_argument("--out", default=None, metavar="FILE",
                   help="output file (default: BATCH_DIR/report.html, or the student's feedback.html)")
    r.add_argument("--lang", choices=("en", "zh"), default=argparse.SUPPRESS,
                   help="language shown first; the page switches between English and Chinese")
    r.set_defaults(func=_cmd_report)
