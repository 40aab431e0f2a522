"""Grade sections in parallel: the chosen sections are split into ``jobs`` groups of about equal
grading time, each group is graded by its own ``hfcourse grade`` process (its own grader, zygote
and workers) with the same seed, and the reports are merged into one, in course order.

Group sizes come from the time each section took the last time it was graded on this machine
(``timings.json`` in the cache); a section never graded counts as ``_UNKNOWN`` seconds. The
sections whose graders launch a group of processes share one group, which keeps the peak memory
of ``--jobs 2`` near that of one run."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from hfcourse.manifest import Course, Section
from hfcourse.paths import cache_dir, scratch_dir
from hfcourse.results import RunResult, write_atomic

__all__ = ["split", "launches", "grade_parallel", "record_timings", "merge"]

_UNKNOWN = 5.0


def _timings_file() -> Path:
    return cache_dir() / "timings.json"


def _timings() -> dict[str, float]:
    try:
        data = json.loads(_timings_file().read_text(encoding="utf-8"))
        return {str(k): float(v) for k, v in data.items()}
    except (OSError, ValueError, AttributeError):
        return {}


def record_timings(run: RunResult) -> None:
    """Remember how long each section of a finished run took (for the next split)."""
    if run.interrupted or not run.tests:
        return
    seen = _timings()
    for section in {t.section for t in run.tests}:
        seen[section] = round(sum(t.duration for t in run.tests if t.section == section), 2)
    try:
        write_atomic(_timings_file(), json.dumps(seen, indent=1, sort_keys=True))
    except OSError:
        pass


_LAUNCHES = re.compile(r"processes\s*=\s*[2-9]|two_processes")


def launches(section: Section, graders: Path) -> bool:
    """Whether the section's grader starts a group of processes (``student.call(…, processes=2)``
    or the two_processes probe): each adds two fresh interpreters, about 330 MiB each."""
    try:
        return bool(_LAUNCHES.search((graders / section.grader).read_text(encoding="utf-8")))
    except OSError:
        return False


def split(sections: list[Section], jobs: int, timings: dict[str, float] | None = None,
          together: set[str] = frozenset()) -> list[list[Section]]:
    """Longest first onto the group with the least time; each group in course order. The sections
    in ``together`` (those that launch processes) go onto one group as one block, so that no two
    groups hold launched processes at the same time."""
    timings = _timings() if timings is None else timings
    order = {s.id: i for i, s in enumerate(sections)}
    groups: list[list[Section]] = [[] for _ in range(max(1, min(jobs, len(sections))))]
    loads = [0.0] * len(groups)
    block = [s for s in sections if s.id in together]
    items = ([block] if block else []) + [[s] for s in sections if s.id not in together]
    for item in sorted(items, key=lambda i: -sum(timings.get(s.id, _UNKNOWN) for s in i)):
        k = loads.index(min(loads))
        groups[k].extend(item)
        loads[k] += sum(timings.get(s.id, _UNKNOWN) for s in item)
    return [sorted(g, key=lambda s: order[s.id]) for g in groups if g]


def merge(runs: list[RunResult], course: Course, started: float) -> RunResult:
    """One report from the groups' reports: sections and tests in course order."""
    order = {s.id: i for i, s in enumerate(course.sections)}
    first = runs[0]
    merged = RunResult(
        target=first.target, seed=first.seed,
        started=datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
        duration=time.time() - started, sandbox=first.sandbox, versions=first.versions,
        interrupted=any(r.interrupted for r in runs),
    )
    merged.sections = sorted((s for r in runs for s in r.sections), key=lambda s: order.get(s["id"], 1 << 30))
    merged.tests = sorted((t for r in runs for t in r.tests), key=lambda t: order.get(t.section, 1 << 30))
    merged.benchmarks = [b for r in runs for b in r.benchmarks]
    merged.errors = [e for r in runs for e in r.errors]
    merged.calls = sorted((c for r in runs for c in r.calls), key=lambda c: (order.get(c["section"], 1 << 30), c["side"]))
    return merged


def grade_parallel(course: Course, sections: list[Section], *, target: str, seed: int | None, jobs: int,
                   verbose: bool = False) -> RunResult:
    """Grade ``sections`` in ``jobs`` processes; prints a line per finished group to stderr."""
    from hfcourse.grade import GradeError

    seed = secrets.randbits(31) if seed is None else seed
    started = time.time()
    groups = split(sections, jobs, together={s.id for s in sections if launches(s, course.root / "graders")})
    scratch = scratch_dir("jobs")
    procs = []
    for k, group in enumerate(groups):
        out, log = scratch / f"group{k}.json", scratch / f"group{k}.log"
        argv = [sys.executable, "-m", "hfcourse.cli", "grade", "--target", target, "--seed", str(seed),
                "--format", "json", "--out", str(out), "--jobs", "1", "--sections", *[s.id for s in group]]
        with open(log, "wb") as fh:
            procs.append((group, out, log, subprocess.Popen(argv + (["-v"] if verbose else []), stdout=fh,
                                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)))
    print(f"grading {len(sections)} sections in {len(groups)} parallel groups", file=sys.stderr, flush=True)
    runs: list[RunResult] = []
    try:
        for group, out, log, proc in procs:
            try:
                proc.wait()
            except KeyboardInterrupt:
                for _, _, _, other in procs:
                    other.wait()
            if not out.exists():
                tail = log.read_text(errors="replace")[-3000:]
                raise GradeError(f"grading sections {' '.join(s.id for s in group)} stopped before writing its "
                                 f"report (exit code {proc.returncode}):\n{tail}")
            run = RunResult.from_json(out.read_text(encoding="utf-8"))
            runs.append(run)
            ids = " ".join(s.id for s in group)
            print(f"  {ids}: {run.score:g} / {run.max_score:g} in {run.duration:.0f} s", file=sys.stderr, flush=True)
    finally:
        for *_, proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for path in scratch.iterdir():
            path.unlink()
        os.rmdir(scratch)
    return merge(runs, course, started)
