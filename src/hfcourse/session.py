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
from hfcourse.expect import BadReply, GradeFailure
from hfcourse.manifest import Course, Section
from hfcourse.results import BenchFigure, TestResult, sanitize
from hfcourse.sandbox.client import StudentError, WorkerProcess
from hfcourse.sandbox.codec import Ref
from hfcourse.sandbox.zygote import Zygote
from hfcourse.sandbox.zygote import enabled as zygote_enabled
from hfcourse.sandbox.zygote import take as take_zygote
from hfcourse.targets import Source, Target, WorkerPool

__all__ = ["Grading", "Fixtures", "Bench", "StudentSide", "GraderFault", "NOT_YOURS", "classify", "grader_line", "sandbox_facts", "versions"]


class GraderFault(Exception):
    """The course's own code failed (the reference solution, a fixture, the grader): never the
    student's fault (scored GRADER_ERROR)."""


NOT_YOURS = ("this is not your mistake: tell your instructor", "这不是你的错误：请告诉老师")
"""What a GRADER_ERROR test says to the student, after what failed."""


def classify(result: TestResult, exc: BaseException | None) -> None:
    """Fill category and message of a failed test from what it raised. Attribution is
    structural: a ``StudentError`` (raised by the student's worker, or when its reply was
    decoded), a failed ``expect`` check and an exception inside an ``expect.reply`` scope are
    the student's; anything else (fixtures, the reference worker, the grader's own model
    calls, services, a bare ``assert`` in grader or library code) is GRADER_ERROR. Hidden tests keep no expected values in their message
    (it reaches reports and logs)."""
    hidden = result.visibility == "hidden"
    if isinstance(exc, BadReply) and isinstance(exc.cause, StudentError):
        exc = exc.cause
    if isinstance(exc, StudentError):
        result.category, result.message = exc.category, exc.message
        if exc.output:
            result.output = exc.output
    elif isinstance(exc, GradeFailure):
        result.category = "SLOW" if getattr(exc, "slow", False) else "WRONG_RESULT"
        result.message = exc.public if hidden else exc.message
        result.message_zh = exc.public_zh if hidden else exc.message_zh
        result.likely, result.likely_zh = exc.likely, exc.likely_zh
    elif isinstance(exc, BadReply):
        cause = exc.cause
        first = "" if hidden else ": " + (str(cause).splitlines() or [""])[0][:300]
        result.category = "BAD_OUTPUT"
        result.message = f"the returned value could not be used ({exc.what[:200]}): {type(cause).__name__}{first}"
        result.message_zh = f"返回值无法使用（{exc.what[:200]}）：{type(cause).__name__}{first}"
    elif isinstance(exc, KeyboardInterrupt):
        result.category, result.message = "INTERRUPTED", "the run was stopped during this test"
    else:
        result.category = "GRADER_ERROR"
        if exc is None:
            what = "the test failed without an exception"
        elif isinstance(exc, GraderFault) and hidden:
            what = str(exc).split("]", 1)[0] + "]"
        else:
            first = "" if hidden else ": " + (str(exc).splitlines() or [""])[0][:300]
            what = f"{type(exc).__name__}{first}"
        result.fault = grader_line(exc)
        result.message = f"the grader failed ({what}): {NOT_YOURS[0]}"
        result.message_zh = f"评分程序出错（{what}）：{NOT_YOURS[1]}"
    result.message, result.message_zh = sanitize(result.message), sanitize(result.message_zh)
    result.output = sanitize(result.output)


def grader_line(exc: BaseException | None) -> str:
    """Where the grader was when ``exc`` was raised: the exception type and the innermost
    frame in the course's graders/ (or, failing that, the innermost frame), as ``file:line``.
    For the instructor; it holds no values."""
    if exc is None:
        return ""
    frames, tb = [], exc.__traceback__
    while tb is not None:
        frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    mine = [f for f in frames if "/graders/" in f[0].replace("\\", "/")]
    file, line = (mine or frames or [("?", 0)])[-1]
    if "/graders/" in file:
        file = "graders/" + file.replace("\\", "/").rsplit("/graders/", 1)[1]
    inner = frames[-1] if frames else ("?", 0)
    where = f"{file}:{line}"
    if inner != (mine[-1] if mine else None) and frames:
        where += f" (raised in {Path(inner[0]).name}:{inner[1]})"
    return f"{type(exc).__name__} at {where}"


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


class StudentSide:
    """What the ``student`` fixture gives a grader test: calls go to the graded module's worker,
    or, while the test runs as a control, to the reference solution loaded in a student worker."""

    def __init__(self, grading: "Grading", target: Target):
        self._grading, self._target = grading, target

    @property
    def target(self) -> Target:
        return self._grading.control_target(self._target.section) or self._target

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.target, name)


class _Timed(Target):
    """A target whose calls' round-trip times are kept (the slowest per section, against the
    section's per-call limit: the flake sweep sizes the limits from them)."""

    record: "Callable[[Target, str, float], None] | None" = None

    def timed(self, fn: str, *args: Any, **kwargs: Any) -> tuple[Any, float]:
        value, seconds = super().timed(fn, *args, **kwargs)
        if self.record is not None:
            self.record(self, fn, seconds)
        return value, seconds


class _Reference(_Timed):
    """The reference solution's proxy: whatever fails in its worker is the course's fault."""

    def timed(self, *args: Any, **kwargs: Any) -> tuple[Any, float]:
        try:
            return super().timed(*args, **kwargs)
        except StudentError as err:
            raise GraderFault(f"the reference solution failed: [{err.category}] {err.message}") from None


@contextlib.contextmanager
def _fair(student: Target, reference: Target):
    """Student and reference take turns on one core that this grading claimed: while one is
    timed, the other (every process and thread of it) is stopped (see ``sandbox.fair``)."""
    from hfcourse.sandbox.fair import FairTiming, claim_core

    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    with claim_core() as core:
        fair = FairTiming(student.worker.tree(), reference.worker.tree(), core)
        try:
            yield fair
        finally:
            fair.close()
            for t in (student, reference):
                tree = t.worker.tree()
                if tree is not None and cpus:
                    tree.pin(set(cpus))


class Bench:
    """``bench.compare("fn", *args, unit=…, items=…, threshold=…)`` inside a grader test."""

    def __init__(self, grading: "Grading", test: str, benchmark: Any, student: Target, reference: Target):
        self.grading, self.test, self.benchmark = grading, test, benchmark
        self.student, self.reference = student, reference

    def compare(self, fn: str, *args: Any, unit: str, items: int, threshold: float, rounds: int = 7,
                kwargs: dict | None = None, likely: Any = None) -> BenchFigure:
        def run(target: Target):
            return lambda: target.call(fn, *args, kwargs=kwargs, discard=True, reap=False)

        try:
            with _fair(self.student, self.reference) as fair:
                _, figure = _bench.compare(run(self.student), run(self.reference), benchmark=self.benchmark,
                                           rounds=rounds, threshold=threshold, section=self.student.section.id,
                                           test=self.test, unit=unit, items=items, fair=fair)
        finally:
            self.student._reap()
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
    attempts: dict[str, int] = field(default_factory=dict)
    """How often each test has run (a GRADER_ERROR runs twice, see the plugin)."""
    used: dict[str, list[Any]] = field(default_factory=dict)
    """The workers' proxies a test used, while it may run again."""
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The slowest call per section and side (student, reference): seconds and limit."""
    control: str | None = None
    """The test now running as a control (the reference solution in the student's place)."""
    control_result: TestResult | None = None
    _controls: dict[str, Target] = field(default_factory=dict)
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
            capped = plan().jail and "scratch_cap" in plan().active
            self._pool = WorkerPool(expected=len(sections), jail=plan().jail, readable=(str(self.source.base),),
                                    preload=self.course.preload, zygote=self.zygote(),
                                    scratch_mb=max((s.scratch_mb for s in self.course.sections), default=512) if capped else None)
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
        worker = self.pool.acquire(f"student-{section.marker}", section.scratch_mb)
        return self._timed(_Timed("student", section, worker, self.source.module(section)))

    def reference_target(self, section: Section) -> Target:
        if self._reference is None:
            self._reference = WorkerProcess("reference", preload=self.course.preload, zygote=self.zygote())
        return self._timed(_Reference("reference", section, self._reference,
                                      self.course.root / "solutions" / section.module))

    def _timed(self, target: _Timed) -> _Timed:
        target.record = self._record_call
        return target

    def _record_call(self, target: Target, fn: str, seconds: float) -> None:
        """Keep the slowest call of each section and side, with the per-call limit it ran under."""
        key = f"{target.section.id} {target.kind}"
        if seconds > self.calls.get(key, {}).get("seconds", -1.0):
            self.calls[key] = {"section": target.section.id, "side": target.kind, "function": fn,
                               "seconds": round(seconds, 3), "limit": float(target.section.timeout)}

    def release(self, target: "Target | StudentSide") -> None:
        self.pool.release(target.worker)

    # -- control runs: is a grader error the reply's doing? ---------------------------------
    def begin_control(self, nodeid: str) -> None:
        """Until ``end_control``, the ``student`` proxies call the reference solution, loaded in a
        student worker as if it were the submission (see the plugin's runtest protocol)."""
        self.control, self.control_result = nodeid, None

    def control_target(self, section: Section) -> Target | None:
        if self.control is None:
            return None
        if section.id not in self._controls:  # trusted code: a worker like the reference's
            worker = WorkerProcess(f"control-{section.marker}", preload=self.course.preload, zygote=self.zygote())
            self._controls[section.id] = Target("student", section, worker,
                                                self.course.root / "solutions" / section.module)
        return self._controls[section.id]

    def end_control(self) -> TestResult | None:
        for target in self._controls.values():
            target.worker.close()
        self._controls.clear()
        self.control, result, self.control_result = None, self.control_result, None
        return result

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
