"""Throughput grading (hfcourse.bench) on a fake clock: the paired-round ratio, its robustness to
load that hits one round, and the second measurement under the threshold."""

from __future__ import annotations

import pytest

from hfcourse import bench


class Clock:
    """``time.perf_counter`` that moves only when a measured call says how long it took."""

    def __init__(self) -> None:
        self.now = 0.0
        self.calls = 0

    def __call__(self) -> float:
        return self.now

    def call(self, seconds):
        def run():
            self.calls += 1
            self.now += seconds() if callable(seconds) else seconds
        return run


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(bench.time, "perf_counter", c)
    return c


def _compare(student, reference, threshold=0.0, rounds=7):
    return bench.compare(student, reference, rounds=rounds, warmup=1, threshold=threshold, section="9.9",
                         test="t", unit="items/s", items=10)


def test_ratio_is_the_median_of_paired_rounds(clock):
    result, figure = _compare(clock.call(2.0), clock.call(1.0))
    assert result.ratio == 0.5 and result.rounds == 7
    assert figure.student == 5.0 and figure.reference == 10.0 and figure.ratio == 0.5


def test_a_load_burst_on_some_rounds_cancels_in_the_pair(clock):
    # Load hits the student's calls in three rounds, the reference's in two others: a student
    # as fast as the reference still measures 1.0.
    student_times = iter([1.0, 1.0, 9.0, 9.0, 9.0, 1.0, 1.0, 1.0, 1.0])
    reference_times = iter([1.0, 9.0, 9.0, 9.0, 1.0, 9.0, 9.0, 1.0, 1.0])
    both = {"s": student_times, "r": reference_times}
    result, _ = _compare(clock.call(lambda: next(both["s"])), clock.call(lambda: next(both["r"])))
    assert result.ratio == 1.0
    # the ratio of the two medians would have said 9.0: median(student) 1 s, median(reference) 9 s
    assert (result.student_seconds, result.reference_seconds) == (1.0, 9.0)


def test_under_the_threshold_the_rounds_are_measured_once_more(clock):
    _compare(clock.call(2.0), clock.call(1.0), threshold=0.9, rounds=5)
    assert clock.calls == 2 + 2 * 5 * 2  # warm-up, first measurement, second measurement
    clock.calls = 0
    _compare(clock.call(1.0), clock.call(1.0), threshold=0.9, rounds=5)
    assert clock.calls == 2 + 2 * 5
