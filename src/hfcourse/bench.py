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


def _timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _interleaved(student: Callable[[], Any], reference: Callable[[], Any], rounds: int) -> Comparison:
    s, r = [], []
    for i in range(rounds):
        if i % 2:
            s.append(_timed(student))
            r.append(_timed(reference))
        else:
            r.append(_timed(reference))
            s.append(_timed(student))
    return Comparison(statistics.median(s), statistics.median(r), rounds, _paired(s, r))


def _with_pytest_benchmark(benchmark: Any, student: Callable[[], Any], reference: Callable[[], Any],
                           rounds: int) -> Comparison:
    ref_times: list[float] = []

    def setup() -> None:
        ref_times.append(_timed(reference))

    benchmark.pedantic(student, setup=setup, rounds=rounds, warmup_rounds=0, iterations=1)
    stats = getattr(getattr(benchmark, "stats", None), "stats", None)
    if stats is None or not ref_times:
        return _interleaved(student, reference, rounds)
    data = [float(x) for x in getattr(stats, "data", [])]
    return Comparison(float(stats.median), statistics.median(ref_times), rounds, _paired(data, ref_times))


def compare(student: Callable[[], Any], reference: Callable[[], Any], *, benchmark: Any = None,
            rounds: int = 7, warmup: int = 1, threshold: float, section: str, test: str,
            unit: str, items: int) -> tuple[Comparison, BenchFigure]:
    """Measure both, re-measuring once when the first ratio falls under ``threshold``."""
    for _ in range(warmup):
        reference()
        student()
    usable = benchmark is not None and not getattr(benchmark, "disabled", False)
    result = _with_pytest_benchmark(benchmark, student, reference, rounds) if usable else _interleaved(student, reference, rounds)
    if result.ratio < threshold:
        again = _interleaved(student, reference, rounds)
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
