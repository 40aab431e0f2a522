"""Check that a course is consistent and that its graders tell solutions from stubs.

The static part reads files only (and collects the graders with pytest): manifest, solutions,
exercises, graders, grade markers, points, mutants and orphan files agree. The dynamic part
grades the solutions (every test must pass) and the stubs (every test must be NOT_ATTEMPTED),
one grading run per target for all chosen sections. Every problem names its fix."""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hfcourse import manifest, mutants, stubs
from hfcourse.manifest import Course, Section

__all__ = ["Problem", "GraderTest", "check_static", "check_dynamic", "collect_graders", "load_course", "grade_report",
           "solution_failures"]

ALLOWED_EXTRA = {"__init__.py", "conftest.py", "README.md"}
"""File names allowed under solutions/, exercises/ and graders/ that no section names."""
_TREES = ("solutions", "exercises", "graders")


@dataclass(frozen=True)
class Problem:
    """One inconsistency: where it is, what is wrong and how to fix it (English and Chinese)."""

    where: str
    problem: str
    fix: str
    problem_zh: str
    fix_zh: str
    note: bool = False
    """A remark that does not fail validation."""

    def text(self, lang: str) -> tuple[str, str]:
        return (self.problem_zh, self.fix_zh) if lang == "zh" else (self.problem, self.fix)


@dataclass(frozen=True)
class GraderTest:
    section: str
    nodeid: str
    points: float
    visibility: str


@contextlib.contextmanager
def _course_root(root: Path) -> Iterator[None]:
    saved = os.environ.get("HFCOURSE_ROOT")
    os.environ["HFCOURSE_ROOT"] = str(root)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("HFCOURSE_ROOT", None)
        else:
            os.environ["HFCOURSE_ROOT"] = saved


class _Collector:
    """A pytest plugin object that keeps the collected grader tests and collection errors."""

    def __init__(self, course: Course):
        self.course = course
        self.tests: list[GraderTest] = []
        self.problems: list[Problem] = []

    def pytest_collectreport(self, report) -> None:
        if report.failed:
            first = str(report.longrepr).strip().splitlines()[-1:] or ["?"]
            self.problems.append(Problem(
                report.nodeid, f"the grader does not import: {first[0][:200]}", "run it with pytest and fix the error",
                f"评分模块无法导入：{first[0][:200]}", "用 pytest 运行它并修复错误"))

    def pytest_collection_modifyitems(self, items) -> None:
        from hfcourse.plugin import _check_marker

        graders = self.course.root / "graders"
        for item in items:
            section = self.course.by_grader(Path(item.path).relative_to(graders).as_posix())
            bad = _check_marker(item)
            if bad:
                self.problems.append(Problem(
                    item.nodeid, bad, 'give it @pytest.mark.grade(points=…, hint="…", hint_zh="…", visibility=…)',
                    f"评分标记有误：{bad}", '加上 @pytest.mark.grade(points=…, hint="…", hint_zh="…", visibility=…)'))
                continue
            mark = item.get_closest_marker("grade").kwargs
            self.tests.append(GraderTest(section.id if section else "", item.nodeid, float(mark["points"]),
                                         mark.get("visibility", "hidden")))
        items.clear()


def collect_graders(course: Course, sections: list[Section]) -> tuple[list[GraderTest], list[Problem]]:
    """Collect the grader tests of ``sections`` with pytest (nothing is run)."""
    import pytest

    paths = [course.root / "graders" / s.grader for s in sections if (course.root / "graders" / s.grader).is_file()]
    if not paths:
        return [], []
    collector = _Collector(course)
    args = [*map(str, paths), "-c", str(Path(__file__).with_name("grading.ini")), "--rootdir", str(course.root),
            "-p", "no:hfcourse", "--import-mode=importlib", "--capture=no", "-qq", "-W", "ignore::pytest.PytestAssertRewriteWarning",
            "-o", "markers=grade"]
    try:
        with _course_root(course.root), contextlib.redirect_stdout(io.StringIO()):
            pytest.main(args, plugins=[collector])
    finally:
        _forget_modules(course.root / "graders")
    return collector.tests, collector.problems


def _forget_modules(base: Path) -> None:
    """Drop grader modules from ``sys.modules`` so that another course copy is collected afresh."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and base in Path(file).parents:
            del sys.modules[name]


def _rel(course: Course, path: Path) -> str:
    return path.relative_to(course.root).as_posix()


def _files(course: Course, sections: list[Section]) -> list[Problem]:
    out = []
    for s in sections:
        for tree, rel in (("solutions", s.module), ("graders", s.grader)):
            if not (course.root / tree / rel).is_file():
                out.append(Problem(
                    s.id, f"ready but {tree}/{rel} is missing", f"add {tree}/{rel}, or set status = \"planned\"",
                    f"状态为 ready，但缺少 {tree}/{rel}", f"添加 {tree}/{rel}，或设置 status = \"planned\""))
    try:
        drift = stubs.check(course, sections)
    except stubs.StubError as exc:
        return out + [Problem(str(exc).split(":")[0], str(exc), "fix the BEGIN/END SOLUTION markers it names",
                              f"解答标记有误：{exc}", "修正所指出的 BEGIN/END SOLUTION 标记")]
    for d in drift:
        if "solution is missing" in d.reason:
            continue
        out.append(Problem(_rel(course, d.path), f"exercise {d.reason.split(':')[0]}", "run `hfcourse stubs`",
                           "练习文件缺失或与解答不一致", "运行 `hfcourse stubs`"))
    return out


def _points(course: Course, sections: list[Section], tests: list[GraderTest]) -> list[Problem]:
    out = []
    for s in sections:
        if not (course.root / "graders" / s.grader).is_file():
            continue
        mine = [t for t in tests if t.section == s.id]
        total = sum(t.points for t in mine)
        if not mine:
            out.append(Problem(f"graders/{s.grader}", "has no grader tests", "add tests with @pytest.mark.grade",
                               "没有评分测试", "添加带 @pytest.mark.grade 的测试"))
        elif total != s.points:
            out.append(Problem(
                s.id, f"graders give {total:g} points, course.toml says {s.points:g}",
                f"set points = {total:g} in course.toml, or change the tests' points",
                f"评分测试共 {total:g} 分，course.toml 写的是 {s.points:g} 分",
                f"在 course.toml 中设置 points = {total:g}，或修改测试的分值"))
    return out


def _orphans(course: Course) -> list[Problem]:
    named = {tree: {s.grader if tree == "graders" else s.module for s in course.sections} for tree in _TREES}
    out = []
    for tree in _TREES:
        base = course.root / tree
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(base).as_posix()
            if path.is_dir() or "__pycache__" in path.parts or path.name in ALLOWED_EXTRA or path.suffix == ".ipynb":
                continue
            if rel not in named[tree]:
                out.append(Problem(
                    f"{tree}/{rel}", "no section in course.toml names this file",
                    "add its section to course.toml (the path is chN/sM_<slug>.py), rename it, or delete it",
                    "course.toml 中没有小节对应这个文件",
                    "在 course.toml 中添加对应小节（路径为 chN/sM_<slug>.py），或重命名、删除它"))
    return out


def _planned(course: Course) -> list[Problem]:
    out = []
    for s in course.sections:
        if not s.ready and (course.root / "graders" / s.grader).is_file():
            out.append(Problem(
                s.id, "planned, but its grader exists: it is not graded or validated until it is ready",
                "set status = \"ready\" once solution, exercise and grader pass `hfcourse validate`",
                "状态为 planned，但评分模块已存在：在 ready 之前不会评分或检查",
                "解答、练习和评分模块通过 `hfcourse validate` 后设置 status = \"ready\"", note=True))
    return out


def _public(course: Course, sections: list[Section]) -> list[Problem]:
    """Notes on sections whose student release would hold no public test."""
    from hfcourse.release import ReleaseError, public_grader

    out = []
    for s in sections:
        path = course.root / "graders" / s.grader
        if not path.is_file():
            continue
        try:
            public = public_grader(path.read_text(encoding="utf-8"), f"graders/{s.grader}")
        except (ReleaseError, SyntaxError):
            continue
        if not public.kept:
            why = (f"its visible tests need the reference solution ({', '.join(public.needs_solution)})"
                   if public.needs_solution else "it has no visible test")
            why_zh = "其公开测试需要参考解答" if public.needs_solution else "它没有公开测试"
            out.append(Problem(
                s.id, f"the student release has no public test of this section: {why}",
                "give a simple test visibility=\"visible\" that checks facts it computes itself, not the reference",
                f"学生发布版中此小节没有公开测试：{why_zh}",
                "把一个只检查自身计算的事实（不依赖参考解答）的简单测试标为 visibility=\"visible\"", note=True))
    return out


def _mutants(course: Course) -> list[Problem]:
    out = []
    for path in sorted((course.root / "tests" / "mutants").glob("*.toml")):
        where = _rel(course, path)
        try:
            entries = mutants.load(path)
        except (ValueError, TypeError) as exc:
            out.append(Problem(where, f"cannot be read: {exc}", "each [[mutant]] needs section, name, find, replace",
                               f"无法读取：{exc}", "每个 [[mutant]] 需要 section、name、find、replace"))
            continue
        for m in entries:
            try:
                sec = course.section(m.section)
            except KeyError:
                sec = None
            if sec is None or not sec.ready:
                out.append(Problem(f"{where}: {m.id}", f"section {m.section} is not a ready section",
                                   "point the mutant at a ready section or remove it",
                                   f"小节 {m.section} 不是 ready 状态", "让变异体指向 ready 的小节，或删除它"))
                continue
            if not (course.root / "solutions" / sec.module).is_file():
                continue
            try:
                mutants.apply(m, course)
            except ValueError as exc:
                count = str(exc).split("occurs ")[-1].split(" times")[0]
                out.append(Problem(f"{where}: {m.id}", f"its find text occurs {count} times in solutions/{sec.module}",
                                   "quote a longer find text that occurs exactly once in the solution",
                                   f"find 文本在 solutions/{sec.module} 中出现 {count} 次",
                                   "引用在解答中只出现一次的更长的 find 文本"))
    return out


def check_static(course: Course, sections: list[Section] | None = None) -> list[Problem]:
    """Problems found without grading anything (``sections``: the ready ones to check; default all)."""
    chosen = sections if sections is not None else [s for s in course.sections if s.ready]
    tests, problems = collect_graders(course, chosen)
    broken = {p.where for p in problems}
    counted = [s for s in chosen if f"graders/{s.grader}" not in broken]
    problems = _files(course, chosen) + problems + _points(course, counted, tests)
    if sections is None:
        problems += _orphans(course) + _mutants(course) + _planned(course) + _public(course, counted)
    return problems


def grade_report(course: Course, target: str, sections: list[Section], log: Callable[[str], None],
                 seed: int | None = None, label: str | None = None, env: dict[str, str] | None = None) -> dict | None:
    """One grading run of ``target`` over ``sections`` in a subprocess (with ``seed``, else a
    fresh one; ``env``: extra environment, such as another fixture cache); its JSON report, or None."""
    fd, name = tempfile.mkstemp(prefix="hfcourse-validate-", suffix=".json")
    os.close(fd)
    out = Path(name)
    label = label or target
    log(f"grading {label} of {len(sections)} section(s){'' if seed is None else f' with seed {seed}'}: "
        f"{' '.join(s.id for s in sections)} …")
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "hfcourse.cli", "grade", "--target", target, "--sections", *(s.id for s in sections),
             "--format", "json", "--out", str(out), *(["--seed", str(seed)] if seed is not None else [])],
            env={**os.environ, "HFCOURSE_ROOT": str(course.root), **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True)
        ran = proc.returncode in (0, 3)  # 3: it ran, and the course had a fault (reported as a problem below)
        report = json.loads(out.read_text(encoding="utf-8")) if ran and out.stat().st_size else None
    finally:
        out.unlink(missing_ok=True)
    if report is None:
        log(proc.stderr[-2000:])
    else:
        passed = sum(t["status"] == "passed" for t in report["tests"])
        log(f"  {label}: {len(report['tests'])} test(s), {passed} passed, in {time.monotonic() - started:.0f} s")
    return report


def _could_not_grade(target: str) -> Problem:
    return Problem(target, f"grading {target} did not run", "run `hfcourse grade --target " + target + "` and fix the error it prints",
                   f"无法评分 {target}", f"运行 `hfcourse grade --target {target}` 并修复它报告的错误")


def solution_failures(runs: list[tuple[int | None, dict]]) -> list[Problem]:
    """One problem per grader test that failed on the solutions in any of ``runs`` (seed,
    report), naming the seeds it failed with when there were several runs."""
    failed: dict[str, list[tuple[int | None, dict]]] = {}
    for seed, report in runs:
        for t in report["tests"]:
            if t["status"] != "passed" or t.get("attempts", 1) > 1:  # a pass on the retry is a flake too
                if t["status"] == "passed":
                    t = {**t, "category": "GRADER_ERROR", "message": f"passed only when run again: {t['message']}"}
                failed.setdefault(t["nodeid"], []).append((seed, t))
    problems = []
    for nodeid, hits in failed.items():
        t = hits[0][1]
        again = f"--sections {t['section']}"
        where, where_zh = "", ""
        if len(runs) > 1:
            seeds = ", ".join(str(seed) for seed, _ in hits)
            where = f" with {len(hits)} of {len(runs)} seeds ({seeds})"
            where_zh = f"（{len(runs)} 个种子中有 {len(hits)} 个：{seeds}）"
            again += f" --seed {hits[0][0]}"
        problems.append(Problem(
            nodeid, f"fails on the reference solution{where}: [{t['category']}] {t['message'][:200]}",
            f"fix solutions/ or the test, then `hfcourse grade {again}`",
            f"参考解答未通过{where_zh}：[{t['category']}] {t['message'][:200]}",
            f"修正 solutions/ 或测试，然后运行 `hfcourse grade {again}`"))
    return problems


def check_dynamic(course: Course, sections: list[Section], log: Callable[[str], None] = print,
                  seeds: int | list[int] = 1) -> list[Problem]:
    """Grade the solutions (every test passes, under each of ``seeds`` grading seeds, a number
    of random ones or a list: a grader whose random inputs sometimes fail the reference shows
    up here) and the stubs (every test NOT_ATTEMPTED)."""
    problems: list[Problem] = []
    if isinstance(seeds, int):
        drawn: list[int | None] = [None] if seeds <= 1 else [secrets.randbits(31) for _ in range(seeds)]
    else:
        drawn = list(seeds)
    runs = [(seed, grade_report(course, "solutions", sections, log, seed)) for seed in drawn]
    solved = runs[0][1]
    if any(report is None for _, report in runs):
        problems.append(_could_not_grade("solutions"))
    problems += solution_failures([(seed, report) for seed, report in runs if report is not None])
    with tempfile.TemporaryDirectory(prefix="hfcourse-stubs-") as tmp:  # not exercises/: a student may have edited it
        stubbed = grade_report(course, str(stubs.write_pristine(course, Path(tmp), sections)), sections, log,
                         label="exercises (generated afresh from solutions/)")
    if stubbed is None:
        problems.append(_could_not_grade("exercises"))
    else:
        for t in stubbed["tests"]:
            if t["category"] != "NOT_ATTEMPTED":
                got = "passes" if t["status"] == "passed" else f"fails as {t['category']}"
                problems.append(Problem(
                    t["nodeid"], f"{got} on the untouched stub instead of NOT_ATTEMPTED",
                    "call the student's functions before checking anything else, and check their results",
                    f"在未修改的练习上{'通过了' if t['status'] == 'passed' else '以 ' + str(t['category']) + ' 失败'}，而不是 NOT_ATTEMPTED",
                    "先调用学生的函数，再检查其结果"))
    for report, target in ((solved, "solutions"), (stubbed, "exercises")):
        graded = {t["section"] for t in report["tests"]} if report else {s.id for s in sections}
        for s in sections:
            if s.id not in graded:
                problems.append(Problem(s.id, f"no test of this section ran on {target}", "check its grader's tests",
                                        f"此小节在 {target} 上没有运行任何测试", "检查它的评分测试"))
    return problems


def load_course(root: Path | None = None) -> Course | Problem:
    """The manifest, or the problem that stops it from loading."""
    try:
        return manifest.load(root / "course.toml" if root else None)
    except manifest.ManifestError as exc:
        return Problem("course.toml", str(exc), "edit course.toml as the message says", f"course.toml 有误：{exc}",
                       "按提示修改 course.toml")
