"""The flake budget, measured: grade the reference solutions with many seeds, half of them under
load, once on a freshly built fixture cache, and report every test that ever failed (or passed
only when run again), with how close each section's slowest call came to its per-call limit.

Half the seeds are graded as they are; the other half twice at once (two gradings of the same
seed) while a CPU-bound process spins, which on a 2-core machine is three busy processes per two
cores. The first plain grading builds its fixtures from an empty cache, on first use, inside the
grading (as on a new clone). ``nox -s flakes`` runs it with 50 seeds; it is not in CI (hours)."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hfcourse.manifest import Course, Section
from hfcourse.validate import Problem, grade_report, solution_failures

__all__ = ["LIMIT_SHARE", "sweep"]

LIMIT_SHARE = 0.5
"""The most of its per-call time limit the slowest call of a section may take under load: a
limit must leave at least twice the slowest measured call."""


def _spinner() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _slowest(runs: list[tuple[int, dict]]) -> dict[str, dict[str, Any]]:
    """Per section, its slowest call over every run (student or reference side) and its limit."""
    out: dict[str, dict[str, Any]] = {}
    for seed, report in runs:
        for call in report.get("calls", []):
            if call["seconds"] > out.get(call["section"], {}).get("seconds", -1.0):
                out[call["section"]] = {**call, "seed": seed, "share": call["seconds"] / call["limit"]}
    return out


def sweep(course: Course, sections: list[Section], seeds: int = 50, log: Callable[[str], None] = print,
          fresh_cache: bool = True, out: Path | None = None) -> tuple[list[Problem], dict[str, Any]]:
    """Grade the solutions of ``sections`` with ``seeds`` random seeds (see the module); the
    problems found and a summary (seeds, runs, minutes, failures, slowest call per section)."""
    started = time.monotonic()
    drawn = [secrets.randbits(31) for _ in range(seeds)]
    plain, loaded = drawn[::2], drawn[1::2]
    runs: list[tuple[int, dict]] = []
    missing: list[int] = []
    cache = Path(tempfile.mkdtemp(prefix="hfcourse-fresh-cache-")) if fresh_cache else None
    try:
        for i, seed in enumerate(plain):
            env = {"HFCOURSE_CACHE": str(cache)} if cache is not None and i == 0 else None
            label = "solutions (fresh fixture cache)" if env else "solutions"
            report = grade_report(course, "solutions", sections, log, seed, label=label, env=env)
            (runs.append((seed, report)) if report else missing.append(seed))
    finally:
        if cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
    for seed in loaded:
        spinner = _spinner()
        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                reports = list(pool.map(lambda k: grade_report(course, "solutions", sections, log, seed,
                                                               label=f"solutions under load ({k + 1} of 2)"), (0, 1)))
        finally:
            spinner.kill()
            spinner.wait()
        for report in reports:
            (runs.append((seed, report)) if report else missing.append(seed))
    problems = solution_failures(runs)
    for seed in missing:
        problems.append(Problem("solutions", f"the grading with seed {seed} did not run",
                                f"run `hfcourse grade --seed {seed}` and fix the error it prints",
                                f"种子 {seed} 的评分没有运行", f"运行 `hfcourse grade --seed {seed}` 并修复它报告的错误"))
    slowest = _slowest(runs)
    for sid, call in slowest.items():
        if call["share"] > LIMIT_SHARE:
            problems.append(Problem(
                sid, f"its slowest call ({call['side']} {call['function']}, seed {call['seed']}) took {call['seconds']:.1f} s "
                f"of its {call['limit']:g} s limit, more than {LIMIT_SHARE:.0%} under load",
                f"raise the section's timeout in course.toml to at least {call['seconds'] / LIMIT_SHARE:.0f} s",
                f"最慢的调用（{call['side']} {call['function']}，种子 {call['seed']}）在负载下用了 {call['seconds']:.1f} 秒，"
                f"超过其 {call['limit']:g} 秒限时的 {LIMIT_SHARE:.0%}",
                f"把 course.toml 中该小节的 timeout 提高到至少 {call['seconds'] / LIMIT_SHARE:.0f} 秒"))
    summary = {"seeds": drawn, "plain": plain, "loaded": loaded, "runs": len(runs), "fresh_cache": fresh_cache,
               "minutes": round((time.monotonic() - started) / 60, 1), "sections": [s.id for s in sections],
               "failures": [{"where": p.where, "problem": p.problem} for p in problems], "slowest": slowest}
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(summary, indent=1), encoding="utf-8")
    log(f"flake sweep: {len(runs)} gradings of {len(sections)} section(s), {seeds} seeds ({len(loaded)} under load, "
        f"twice at once), {summary['minutes']} min: {len(problems)} problem(s)")
    for sid, call in slowest.items():
        log(f"  {sid}: slowest call {call['seconds']:.2f} s of {call['limit']:g} s ({call['share']:.0%}; "
            f"{call['side']} {call['function']})")
    return problems, summary
