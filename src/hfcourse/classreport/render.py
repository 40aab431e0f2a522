"""Render the class report (instructor copy) and a student's feedback page as self-contained HTML."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from functools import lru_cache

import jinja2
from markupsafe import Markup

from hfcourse.classreport import aggregate as agg
from hfcourse.classreport.assets import CSP, CSS, JS
from hfcourse.classreport.batch import Batch, Student
from hfcourse.classreport.labels import bi, t
from hfcourse.classreport.svg import BoxRow, boxes, heat_color, histogram
from hfcourse.classreport.templates import TEMPLATES
from hfcourse.results import CATEGORIES, BenchFigure, TestResult

__all__ = ["render_class_report", "render_student_page"]


_CATEGORY_SHORT = {"NOT_ATTEMPTED": ("not attempted", "未作答"), "TIMEOUT": ("timeout", "超时"),
                   "EXCEPTION": ("exception", "异常"), "WRONG_RESULT": ("wrong result", "结果错误")}


def _pct(fraction: float | None) -> str:
    return "–" if fraction is None else f"{100 * fraction:.0f}%"


def _short(text: str, limit: int = 16) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(x: float) -> str:
    return f"{x:g}"


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    from hfcourse import __version__

    env = jinja2.Environment(loader=jinja2.DictLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.globals.update(t=t, bi=bi, pct=_pct, num=_num, color=heat_color, css=Markup(CSS), js=Markup(JS), csp=CSP,
                       version=__version__, category_text=CATEGORIES,
                       category_short=_CATEGORY_SHORT)
    return env


def _course_title(batch: Batch) -> Markup:
    """The course title in both languages when course.toml knows it, else as grade-batch recorded it."""
    course = agg.load_course()
    if course is not None and batch.course in ("", course.title):
        return bi(course.title, course.title_zh)
    return Markup("{}").format(batch.course or "hfcourse")


def _check_lang(lang: str) -> str:
    if lang not in ("en", "zh"):
        raise ValueError(f"language {lang!r}: choose en or zh")
    return lang


@dataclass
class _HeatRow:
    student: Student
    cells: list[agg.Cell]


def render_class_report(batch: Batch, *, lang: str = "en") -> str:
    """The instructor's report of the whole batch: plots, heat map, failing tests, benchmarks, run facts."""
    infos = agg.section_infos(batch)
    stats = agg.section_stats(batch, infos)
    graded = batch.graded
    fractions = [s.fraction for s in graded]
    students = sorted(batch.students, key=lambda s: s.name.casefold())
    section_rows = [BoxRow(f"{s.info.id} {s.info.title}", [(f, f"{name}: {_pct(f)}") for name, f in s.fractions],
                           label_zh=f"{s.info.id} {_short(s.info.title_zh)}") for s in stats]
    series = agg.bench_series(batch, infos)
    bench_plot = None
    if series:
        top = max([r for s in series for _, r, _, _ in s.points] + [s.threshold for s in series] + [1.0])
        step = 0.25 if top <= 2 else 0.5 if top <= 4 else math.ceil(top / 8)
        top = step * math.ceil(top * 1.05 / step)
        rows = [BoxRow(f"{s.section.id} {s.test.removeprefix('test_')}",
                       [(r, f"{name}: {r:.2f} ({st:,.1f} vs {ref:,.1f} {s.unit})") for name, r, st, ref in s.points],
                       threshold=s.threshold) for s in series]
        bench_plot = boxes(rows, label="throughput ratio student/reference", x_max=top, tick=lambda v: f"{v:g}×",
                           ticks=round(top / step), label_width=300)
    html = _env().get_template("class.html").render(
        lang=_check_lang(lang), course=_course_title(batch), course_text=batch.course or "hfcourse", infos=infos, stats=stats,
        mean=statistics.fmean(fractions) if fractions else None,
        median=statistics.median(fractions) if fractions else None,
        histogram=histogram(fractions, label="score distribution"),
        section_boxes=boxes(section_rows, label="section scores", x_max=1.0, tick=_pct),
        heat=[_HeatRow(s, [agg.cell(s.run, i.id) for i in infos]) for s in students],
        failing=agg.failing_tests(batch, infos), categories=agg.MAIN_CATEGORIES,
        bench_plot=bench_plot, errors=[s for s in students if not s.graded],
        facts=agg.run_facts(batch), students=students,
    )
    return html


@dataclass
class _StudentSection:
    info: agg.SectionInfo
    cell: agg.Cell
    visible: list[TestResult]
    hidden_passed: int = 0
    hidden_failed: int = 0
    hidden_points: float = 0.0
    hidden_max: float = 0.0
    benchmarks: list[BenchFigure] = field(default_factory=list)

    @property
    def hidden_total(self) -> int:
        return self.hidden_passed + self.hidden_failed


def student_sections(batch: Batch, student: Student) -> list[_StudentSection]:
    """What one student may see per section: visible tests in full, hidden tests as counts only."""
    run = student.run
    if run is None:
        return []
    own = {s["id"] for s in run.sections} | {t.section for t in run.tests}
    out = []
    for info in agg.section_infos(batch):
        if info.id not in own:
            continue
        tests = [x for x in run.tests if x.section == info.id]
        visible = [x for x in tests if x.visibility == "visible"]
        names = {x.name for x in visible}
        sec = _StudentSection(info, agg.cell(run, info.id), visible,
                              benchmarks=[b for b in run.benchmarks if b.section == info.id and b.test in names])
        for x in tests:
            if x.visibility != "visible":
                sec.hidden_passed += x.status == "passed"
                sec.hidden_failed += x.status != "passed"
                sec.hidden_points += x.points
                sec.hidden_max += x.max_points
        out.append(sec)
    return out


def render_student_page(batch: Batch, name: str, *, lang: str = "en") -> str:
    """The feedback page of student ``name``: nothing of a hidden test but counts and points."""
    student = batch.student(name)
    run = student.run
    return _env().get_template("student.html").render(
        lang=_check_lang(lang), course=_course_title(batch), course_text=batch.course or "hfcourse", name=student.name, graded=run is not None,
        score=run.score if run else 0.0, max_score=run.max_score if run else 0.0,
        started=run.started if run else "", interrupted=bool(run and run.interrupted),
        sections=student_sections(batch, student),
    )
