"""Class-level figures computed from a batch: section scores, the heat map, failing tests, benchmarks."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

from hfcourse.classreport.batch import Batch
from hfcourse.manifest import Course
from hfcourse.results import RunResult

__all__ = ["MAIN_CATEGORIES", "BenchSeries", "Cell", "FailingTest", "SectionInfo", "SectionStats",
           "bench_series", "box_stats", "cell", "failing_tests", "load_course", "run_facts", "section_infos", "section_stats"]

MAIN_CATEGORIES = ("NOT_ATTEMPTED", "TIMEOUT", "EXCEPTION", "WRONG_RESULT")
"""Failure categories with their own column; the rest are counted together as "other"."""


@dataclass(frozen=True)
class SectionInfo:
    id: str
    title: str
    title_zh: str
    url: str

    @property
    def anchor(self) -> str:
        return "section-" + self.id.replace(".", "-")


@dataclass(frozen=True)
class Cell:
    """One student's result in one section."""

    score: float
    max_points: float
    state: str
    """"full", "partial", "zero", "not_attempted" (every test NOT_ATTEMPTED) or "missing" (not graded)."""

    @property
    def fraction(self) -> float | None:
        if self.state == "missing":
            return None
        return self.score / self.max_points if self.max_points else 0.0


@dataclass
class SectionStats:
    info: SectionInfo
    fractions: list[tuple[str, float]]
    """(student name, fraction of the section's points) per graded student."""
    max_points: float
    full: int
    not_attempted: int

    @property
    def mean(self) -> float | None:
        return statistics.fmean(f for _, f in self.fractions) if self.fractions else None

    @property
    def median(self) -> float | None:
        return statistics.median(f for _, f in self.fractions) if self.fractions else None


@dataclass
class FailingTest:
    section: SectionInfo
    name: str
    visibility: str
    hint: str
    hint_zh: str
    failed: int = 0
    ran: int = 0
    categories: Counter = field(default_factory=Counter)

    @property
    def other(self) -> int:
        return sum(n for c, n in self.categories.items() if c not in MAIN_CATEGORIES)

    @property
    def other_detail(self) -> str:
        return ", ".join(f"{c} {n}" for c, n in sorted(self.categories.items()) if c not in MAIN_CATEGORIES)


@dataclass
class BenchSeries:
    section: SectionInfo
    test: str
    unit: str
    threshold: float
    points: list[tuple[str, float, float, float]] = field(default_factory=list)
    """(student name, ratio, student figure, reference figure)."""


def load_course() -> Course | None:
    """course.toml, or None outside a course checkout."""
    from hfcourse import manifest

    try:
        return manifest.load()
    except Exception:  # noqa: BLE001 - titles then come from the reports themselves
        return None


def section_infos(batch: Batch) -> list[SectionInfo]:
    """The batch's sections in course order, titled from course.toml or else from the reports."""
    titles: dict[str, tuple[str, str]] = {}
    for st in batch.graded:
        for s in st.run.sections:
            titles.setdefault(s["id"], (s.get("title", ""), s.get("title_zh", "")))
    ids = list(dict.fromkeys(batch.sections or list(titles)))
    course = load_course()
    infos = []
    for sid in ids:
        title, title_zh = titles.get(sid, (sid, sid))
        url = ""
        if course is not None:
            try:
                sec = course.section(sid)
                title, title_zh = sec.title, sec.title_zh
                url = f"{course.url.rstrip('/')}/chapter{sec.chapter}/{sec.number}" if course.url else ""
            except KeyError:
                pass
        infos.append(SectionInfo(sid, title, title_zh, url))
    if course is not None:
        order = {s.id: i for i, s in enumerate(course.sections)}
        infos.sort(key=lambda i: order.get(i.id, len(order)))
    return infos


def cell(run: RunResult | None, sid: str) -> Cell:
    """``run``'s result in section ``sid``."""
    if run is None:
        return Cell(0.0, 0.0, "missing")
    sec = next((s for s in run.sections if s["id"] == sid), None)
    tests = [t for t in run.tests if t.section == sid]
    if sec is None and not tests:
        return Cell(0.0, 0.0, "missing")
    score = run.section_score(sid)
    max_points = float(sec["max_points"]) if sec else sum(t.max_points for t in tests)
    if tests and all(t.category == "NOT_ATTEMPTED" for t in tests):
        state = "not_attempted"
    elif score >= max_points:
        state = "full"
    else:
        state = "partial" if score > 0 else "zero"
    return Cell(score, max_points, state)


def section_stats(batch: Batch, infos: list[SectionInfo]) -> list[SectionStats]:
    out = []
    for info in infos:
        cells = [(st.name, cell(st.run, info.id)) for st in batch.graded]
        cells = [(n, c) for n, c in cells if c.state != "missing"]
        out.append(SectionStats(info, [(n, c.fraction or 0.0) for n, c in cells],
                                max((c.max_points for _, c in cells), default=0.0),
                                sum(c.state == "full" for _, c in cells),
                                sum(c.state == "not_attempted" for _, c in cells)))
    return out


def failing_tests(batch: Batch, infos: list[SectionInfo], limit: int = 20) -> list[FailingTest]:
    """Tests that failed for at least one student, most failures first."""
    by_id = {i.id: i for i in infos}
    order = {i.id: n for n, i in enumerate(infos)}
    found: dict[tuple[str, str], FailingTest] = {}
    for st in batch.graded:
        for t in st.run.tests:
            if t.section not in by_id:
                continue
            row = found.setdefault((t.section, t.name), FailingTest(by_id[t.section], t.name, t.visibility, t.hint, t.hint_zh))
            row.ran += 1
            if t.status != "passed":
                row.failed += 1
                row.categories[t.category or "WRONG_RESULT"] += 1
    rows = [r for r in found.values() if r.failed]
    rows.sort(key=lambda r: (-r.failed, order[r.section.id], r.name))
    return rows[:limit]


def bench_series(batch: Batch, infos: list[SectionInfo]) -> list[BenchSeries]:
    """Throughput ratios (student / reference) per benchmark test, one point per student."""
    by_id = {i.id: i for i in infos}
    series: dict[tuple[str, str], BenchSeries] = {}
    for st in batch.graded:
        for b in st.run.benchmarks:
            if b.section not in by_id:
                continue
            s = series.setdefault((b.section, b.test), BenchSeries(by_id[b.section], b.test, b.unit, b.threshold))
            s.points.append((st.name, b.ratio, b.student, b.reference))
    order = {i.id: n for n, i in enumerate(infos)}
    return sorted(series.values(), key=lambda s: (order[s.section.id], s.test))


def box_stats(values: list[float]) -> tuple[float, float, float, float, float] | None:
    """(min, lower quartile, median, upper quartile, max), or None for no values."""
    if not values:
        return None
    vals = sorted(values)
    if len(vals) == 1:
        return (vals[0],) * 5
    q1, q2, q3 = statistics.quantiles(vals, n=4, method="inclusive")
    return vals[0], q1, q2, q3, vals[-1]


def run_facts(batch: Batch) -> dict[str, object]:
    """What an instructor needs to reproduce or audit the grading: dates, versions, sandbox, seeds."""
    versions: dict[str, Counter] = {}
    levels: Counter = Counter()
    started = []
    for st in batch.graded:
        levels[str(st.run.sandbox.get("level", "?"))] += 1
        started.append(st.run.started)
        for k, v in st.run.versions.items():
            versions.setdefault(k, Counter())[str(v)] += 1
    return {
        "course": batch.course,
        "started": batch.started,
        "finished": batch.finished,
        "runs": (min(started), max(started)) if started else None,
        "seed": batch.seed,
        "versions": {k: sorted(c.items()) for k, c in versions.items()},
        "sandbox": sorted(levels.items()),
        "graded": len(batch.graded),
        "errors": len(batch.students) - len(batch.graded),
    }
