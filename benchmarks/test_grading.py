"""Grading speed and memory: one section cold and warm, the whole course, and the fairness of
throughput grading (identical code must measure a ratio near 1)."""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile

import pytest

from support import run_cli, run_cli_measured

SECTION = "2.2"
"""A section that does not train: the floor for a warm check is a few seconds."""


def _check(env: dict | None = None):
    proc, seconds, memory = run_cli_measured("check", SECTION, "--target", "solutions", env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return seconds, memory.peak_pss


def test_section_check_cold(once, tmp_path, benchmark):
    """`hfcourse check 2.2` with an empty fixture cache: builds what the section needs, then grades."""
    seconds, peak = once(_check, {"HFCOURSE_CACHE": str(tmp_path)})
    benchmark.extra_info.update(seconds=round(seconds, 2), peak_pss_mib=round(peak / 2**20))


def test_section_check_warm_local(benchmark):
    """`hfcourse check 2.2` with the fixtures built, without the check server (HFCOURSE_SERVER=0)."""
    _check({"HFCOURSE_SERVER": "0"})
    figures = []
    benchmark.pedantic(lambda: figures.append(_check({"HFCOURSE_SERVER": "0"})), rounds=3, iterations=1)
    benchmark.extra_info.update(peak_pss_mib=round(max(p for _, p in figures) / 2**20))


@pytest.fixture(scope="module")
def check_server():
    """A started check server in a private runtime directory; its environment for `hfcourse`."""
    runtime = tempfile.mkdtemp(prefix="hfb-")
    env = {"HFCOURSE_SERVER": "1", "XDG_RUNTIME_DIR": runtime}
    proc = run_cli("server", "start", env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    yield env
    run_cli("server", "stop", env=env)
    shutil.rmtree(runtime, ignore_errors=True)


def test_section_check_warm_served(benchmark, check_server):
    """The student's edit-check loop: `hfcourse check 2.2` served by the check server. It must be
    at least 3x faster than the same check without the server, measured in this run."""
    _check(check_server)
    served = []
    benchmark.pedantic(lambda: served.append(_check(check_server)[0]), rounds=5, iterations=1)
    local = [_check({"HFCOURSE_SERVER": "0"})[0] for _ in range(2)]
    speedup = statistics.median(local) / statistics.median(served)
    benchmark.extra_info.update(local_median_s=round(statistics.median(local), 2), speedup=round(speedup, 1))
    assert speedup >= 3, f"a served check is only {speedup:.1f}x faster than a local one"


MEMORY_FLOOR = 4 << 30


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_full_course(once, benchmark, tmp_path, jobs):
    """`hfcourse grade --jobs N` of every ready section's solution, with the peak memory of the
    process tree (its proportional set size: workers forked from a zygote share its pages), which
    must stay under 4 GiB."""
    out = tmp_path / "report.json"
    proc, seconds, memory = once(run_cli_measured, "grade", "--jobs", jobs, "--format", "json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    per_section: dict[str, float] = {}
    for t in report["tests"]:
        per_section[t["section"]] = per_section.get(t["section"], 0.0) + t["duration"]
    benchmark.extra_info.update(
        seconds=round(seconds, 1), peak_pss_mib=round(memory.peak_pss / 2**20),
        peak_rss_sum_mib=round(memory.peak / 2**20), score=report["score"],
        max_score=report["max_score"], sections=len(report["sections"]),
        slowest=sorted(((round(v, 1), k) for k, v in per_section.items()), reverse=True)[:8],
    )
    assert report["score"] == report["max_score"]
    assert memory.peak_pss < MEMORY_FLOOR, f"the grading held {memory.peak_pss / 2**30:.2f} GiB at its peak"


FAIR_SECTION, FAIR_RUNS, FAIR_BAND = "2.6", 10, (0.85, 1.15)


@pytest.mark.parametrize("run", range(FAIR_RUNS))
def test_identical_code_measures_a_fair_ratio(run, ratios, tmp_path):
    """Grading the solution against itself: the measured throughput ratio stays within 0.85–1.15 on
    every one of ten runs (the thresholds of the graders are set far below that spread)."""
    out = tmp_path / "report.json"
    proc = run_cli("grade", "--sections", FAIR_SECTION, "--format", "json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    figures = json.loads(out.read_text())["benchmarks"]
    assert figures, f"section {FAIR_SECTION} has no throughput test"
    for f in figures:
        ratios.append(f["ratio"])
        low, high = FAIR_BAND
        assert low <= f["ratio"] <= high, f"{f['section']} {f['test']}: identical code measured a ratio of {f['ratio']:.3f}"


@pytest.fixture(scope="module")
def ratios():
    seen: list[float] = []
    yield seen
    if seen:
        print(f"\nidentical-code ratios over {len(seen)} runs: min {min(seen):.3f} max {max(seen):.3f}")
