"""Throughput of student code as a ratio to the reference, measured in one run.

Student and reference calls alternate round by round, both timed on the grader's
side (a worker that patches its clocks gains nothing). The student's rounds are timed
by pytest-benchmark's ``pedantic`` mode; the reference round runs in its ``setup`` hook
just before each student round. The grade is the median over rounds of each round's ratio
(reference time / student time of the same round): a load that comes and goes on a shared
machine slows both calls of a round alike, so it cancels in the pair. A ratio under the
threshold is measured once more before it counts.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable

from hfcourse.results import BenchFigure

__all__ = ["Comparison", "compare"]


@dataclass
class Comparison:
    student_seconds: float
    """Median of the student's rounds."""
    reference_seconds: float
    rounds: int
    paired: float | None = None
    """Median over rounds of reference time / student time of the same round."""

    @property
    def ratio(self) -> float:
        """Student throughput divided by reference throughput."""
        if self.paired is not None:
            return self.paired
        return self.reference_seconds / self.student_seconds if self.student_seconds > 0 else float("inf")


def _paired(student: list[float], reference: list[float]) -> float | None:
    if len(student) != len(reference) or not student or min(student) <= 0:
        return None
    return statistics.median(r / s for s, r in zip(student, reference))


def _timed(call: Callable[[], Any], side: str = "", fair: Any = None) -> float:
    if fair is not None:
        fair.start(side)
    start = time.perf_counter()
    call()
    seconds = time.perf_counter() - start
    if fair is not None:
        fair.stop(side, seconds)
    return seconds


def _interleaved(student: Callable[[], Any], reference: Callable[[], Any], rounds: int, fair: Any = None) -> Comparison:
    s, r = [], []
    for i in range(rounds):
        if i % 2:
            s.append(_timed(student, "student", fair))
            r.append(_timed(reference, "reference", fair))
        else:
            r.append(_timed(reference, "reference", fair))
            s.append(_timed(student, "student", fair))
    return Comparison(statistics.median(s), statistics.median(r), rounds, _paired(s, r))


def _with_pytest_benchmark(benchmark: Any, student: Callable[[], Any], reference: Callable[[], Any],
                           rounds: int, fair: Any = None) -> Comparison:
    ref_times: list[float] = []

    def setup() -> None:
        if fair is not None:
            fair.stop("student")  # the previous student round, timed by pytest-benchmark
        ref_times.append(_timed(reference, "reference", fair))
        if fair is not None:
            fair.start("student")

    benchmark.pedantic(student, setup=setup, rounds=rounds, warmup_rounds=0, iterations=1)
    if fair is not None:
        fair.stop("student")
    stats = getattr(getattr(benchmark, "stats", None), "stats", None)
    if stats is None or not ref_times:
        if fair is not None:
            fair.reset()
        return _interleaved(student, reference, rounds, fair)
    data = [float(x) for x in getattr(stats, "data", [])]
    return Comparison(float(stats.median), statistics.median(ref_times), rounds, _paired(data, ref_times))


def _measure(benchmark: Any, student: Callable[[], Any], reference: Callable[[], Any], rounds: int,
             fair: Any) -> Comparison:
    """One measurement, remeasured once when the co-runners moved it (``fair.check``)."""
    usable = benchmark is not None and not getattr(benchmark, "disabled", False)
    for attempt in range(2):
        if fair is not None:
            fair.reset()
        if usable and attempt == 0:
            result = _with_pytest_benchmark(benchmark, student, reference, rounds, fair)
        else:
            result = _interleaved(student, reference, rounds, fair)
        if fair is None:
            return result
        from hfcourse.sandbox.fair import UnfairMeasurement

        try:
            fair.check()
            return result
        except UnfairMeasurement:
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


def compare(student: Callable[[], Any], reference: Callable[[], Any], *, benchmark: Any = None,
            rounds: int = 7, warmup: int = 1, threshold: float, section: str, test: str,
            unit: str, items: int, fair: Any = None) -> tuple[Comparison, BenchFigure]:
    """Measure both, re-measuring once when the first ratio falls under ``threshold``. With
    ``fair`` (``hfcourse.sandbox.fair.FairTiming``) only the timed side runs during each call,
    and a measurement that co-runners moved is taken again, then refused."""
    for _ in range(warmup):
        _timed(reference, "reference", fair)
        _timed(student, "student", fair)
    usable = benchmark is not None and not getattr(benchmark, "disabled", False)
    result = _measure(benchmark, student, reference, rounds, fair)
    if result.ratio < threshold:
        again = _measure(None, student, reference, rounds, fair)
        result = again if again.ratio > result.ratio else result
    figure = BenchFigure(
        section=section, test=test, unit=unit,
        student=items / result.student_seconds if result.student_seconds else 0.0,
        reference=items / result.reference_seconds if result.reference_seconds else 0.0,
        ratio=result.ratio, threshold=threshold, rounds=result.rounds,
    )
    if usable:
        benchmark.extra_info.update(unit=unit, student_per_s=figure.student, reference_per_s=figure.reference,
                                    ratio=figure.ratio, threshold=threshold)
    return result, figure
