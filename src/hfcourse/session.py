"""State of one grading run, kept in the pytest config stash by the plugin."""

from __future__ import annotations

import contextlib
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from hfcourse import bench as _bench
from hfcourse.expect import GradeFailure
from hfcourse.manifest import Course, Section
from hfcourse.results import BenchFigure, TestResult, sanitize
from hfcourse.sandbox.client import StudentError, WorkerProcess
from hfcourse.sandbox.codec import Ref
from hfcourse.sandbox.zygote import Zygote
from hfcourse.sandbox.zygote import enabled as zygote_enabled
from hfcourse.sandbox.zygote import take as take_zygote
from hfcourse.targets import Source, Target, WorkerPool

__all__ = ["Grading", "Fixtures", "Bench", "classify", "sandbox_facts", "versions"]


def classify(result: TestResult, exc: BaseException | None) -> None:
    """Fill category and message of a failed test from what it raised. Hidden tests keep
    no expected values in their message (it reaches reports and logs)."""
    hidden = result.visibility == "hidden"
    if isinstance(exc, StudentError):
        result.category, result.message = exc.category, exc.message
        if exc.output:
            result.output = exc.output
    elif isinstance(exc, GradeFailure):
        result.category = "SLOW" if getattr(exc, "slow", False) else "WRONG_RESULT"
        result.message = exc.public if hidden else exc.message
        result.message_zh = exc.public_zh if hidden else exc.message_zh
        result.likely, result.likely_zh = exc.likely, exc.likely_zh
    elif isinstance(exc, AssertionError):
        result.category = "WRONG_RESULT"
        result.message = "assertion failed" if hidden else (str(exc).splitlines() or ["assertion failed"])[0][:500]
    elif exc is None:
        result.category, result.message = "GRADER_ERROR", "the test failed without an exception"
    elif isinstance(exc, KeyboardInterrupt):
        result.category, result.message = "INTERRUPTED", "the run was stopped during this test"
    else:
        first = "" if hidden else ": " + (str(exc).splitlines() or [""])[0][:300]
        if _raised_by_harness(exc):
            result.category, result.message = "GRADER_ERROR", f"{type(exc).__name__}{first}"
        else:
            result.category = "BAD_OUTPUT"
            result.message = f"the returned value could not be used: {type(exc).__name__}{first}"
    result.message, result.message_zh = sanitize(result.message), sanitize(result.message_zh)
    result.output = sanitize(result.output)


def _raised_by_harness(exc: BaseException) -> bool:
    """An error of the grading machinery itself, not of a value the student returned."""
    if isinstance(exc, (OSError, ImportError)):
        return True
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    here = Path(__file__).resolve().parent
    inner = Path(tb.tb_frame.f_code.co_filename).resolve()
    return here in inner.parents and inner.name != "expect.py"


def sandbox_facts() -> dict[str, Any]:
    from hfcourse.sandbox.levels import plan

    return plan().facts()


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for dist in ("hfcourse", "torch", "transformers", "datasets", "tokenizers"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    return out


class Fixtures:
    """Built fixtures: references for workers, loaded objects for the grader."""

    def __init__(self) -> None:
        self._loaded: dict[str, Any] = {}

    def path(self, name: str) -> Path:
        from hfcourse import fixtures

        return fixtures.path(name)

    def ref(self, name: str, *, fresh: bool = False, dropout: float | None = None) -> Ref:
        """A reference that the worker resolves to the loaded object (``fresh``: reload every call;
        ``dropout``: a model in training mode with that dropout, see ``codec.Ref``)."""
        return Ref(name, str(self.path(name)), fresh, dropout)

    def copy_edited(self, name: str, folder: str, dest: Path, parquet: str,
                    edit: Callable[[list[dict]], None]) -> Path:
        """A grader-made data set: the built fixture's ``folder`` copied to ``dest`` (a path in a
        worker's scratch), with ``edit`` changing the rows of its ``parquet`` file in place. The
        file's schema, 🤗 Datasets features included, is kept."""
        import shutil

        import pyarrow as pa
        import pyarrow.parquet as pq

        shutil.copytree(self.path(name) / folder, dest)
        path = Path(dest) / parquet
        table = pq.read_table(path)
        rows = table.to_pylist()
        edit(rows)
        pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
        return Path(dest)

    def load(self, name: str) -> Any:
        """The object in the grader process (cached; do not mutate)."""
        if name not in self._loaded:
            from hfcourse import fixtures

            self._loaded[name] = fixtures.load(name)
        return self._loaded[name]


@contextlib.contextmanager
def _same_core(*targets: Target):
    """Student and reference share one core while they are compared: on a busy machine the
    scheduler might otherwise give one of them a quieter core for the whole measurement."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    pinned = [t for t in targets if len(cpus) > 1 and t.worker.pin({cpus[-1]})]
    try:
        yield
    finally:
        for t in pinned:
            if t.worker.proc is not None:
                t.worker.pin(set(cpus))


class Bench:
    """``bench.compare("fn", *args, unit=…, items=…, threshold=…)`` inside a grader test."""

    def __init__(self, grading: "Grading", test: str, benchmark: Any, student: Target, reference: Target):
        self.grading, self.test, self.benchmark = grading, test, benchmark
        self.student, self.reference = student, reference

    def compare(self, fn: str, *args: Any, unit: str, items: int, threshold: float, rounds: int = 7,
                kwargs: dict | None = None, likely: Any = None) -> BenchFigure:
        def run(target: Target):
            return lambda: target.call(fn, *args, kwargs=kwargs, discard=True)

        with _same_core(self.student, self.reference):
            _, figure = _bench.compare(run(self.student), run(self.reference), benchmark=self.benchmark,
                                       rounds=rounds, threshold=threshold, section=self.student.section.id,
                                       test=self.test, unit=unit, items=items)
        self.grading.figures.append(figure)
        if figure.ratio < threshold:
            exc = GradeFailure(
                f"{fn}: {figure.student:.1f} {unit} against the reference's {figure.reference:.1f} "
                f"(ratio {figure.ratio:.2f}, needs at least {threshold:.2f})",
                *(likely if isinstance(likely, tuple) else (likely or "", "")),
            )
            exc.slow = True
            raise exc
        return figure


@dataclass
class Grading:
    course: Course
    target: str
    seed: int
    report: str | None = None
    started: float = field(default_factory=time.time)
    items: dict[str, tuple[Section, dict]] = field(default_factory=dict)
    results: dict[str, TestResult] = field(default_factory=dict)
    figures: list[BenchFigure] = field(default_factory=list)
    fixtures: Fixtures = field(default_factory=Fixtures)
    _source: Source | None = None
    _pool: WorkerPool | None = None
    _reference: WorkerProcess | None = None
    _zygote: Zygote | None = None

    @property
    def source(self) -> Source:
        if self._source is None:
            self._source = Source(self.course, self.target)
        return self._source

    @property
    def pool(self) -> WorkerPool:
        if self._pool is None:
            from hfcourse.sandbox.levels import plan

            sections = {sec.id for sec, _ in self.items.values()}
            self._pool = WorkerPool(expected=len(sections), jail=plan().jail, readable=(str(self.source.base),),
                                    preload=self.course.preload, zygote=self.zygote())
        return self._pool

    def zygote(self) -> Zygote | None:
        """The run's fork server for workers, started on first use (None where workers are
        started as new processes: see ``hfcourse.sandbox.zygote.enabled``)."""
        if self._zygote is None:
            self._zygote = take_zygote()
        if self._zygote is None and zygote_enabled():
            self._zygote = Zygote(self.course.preload)
        return self._zygote

    def section_of(self, path: Path) -> Section:
        graders = self.course.root / "graders"
        section = self.course.by_grader(Path(path).relative_to(graders).as_posix())
        if section is None:
            raise LookupError(f"{path} is not a section grader listed in course.toml")
        return section

    def student_target(self, section: Section) -> Target:
        worker = self.pool.acquire(f"student-{section.marker}")
        return Target("student", section, worker, self.source.module(section))

    def reference_target(self, section: Section) -> Target:
        if self._reference is None:
            self._reference = WorkerProcess("reference", preload=self.course.preload, zygote=self.zygote())
        return Target("reference", section, self._reference, self.course.root / "solutions" / section.module)

    def release(self, target: Target) -> None:
        self.pool.release(target.worker)

    def bench_for(self, node: Any, benchmark: Any, student: Target, reference: Target) -> Bench:
        return Bench(self, node.name, benchmark, student, reference)

    def close(self) -> None:
        if self._reference is not None:
            self._reference.close()
        if self._pool is not None:
            self._pool.close()
        if self._zygote is not None:
            self._zygote.close()
        if self._source is not None:
            self._source.cleanup()
