"""Grade mutants as submissions and score each section's graders by the mutants they kill.

One grading run checks at most one mutant per section: round i holds the i-th mutant of
every section that has one. Each run is ``hfcourse grade`` in a subprocess with a time
limit; a mutant is killed when any test of its section does not pass."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hfcourse import mutants as curated_mutants
from hfcourse.manifest import Course, Section
from hfcourse.paths import scratch
from hfcourse.mutate.generate import GeneratedMutant, generate, select

__all__ = ["Outcome", "candidates", "curated", "rounds", "grade_round", "run", "STATUSES"]

STATUSES = ("killed", "survived", "timeout", "error")
"""killed: a test of its section failed; timeout: the grading run went over its limit (counted
as killed); error: the run produced no report (not counted)."""


@dataclass
class Outcome:
    """What grading did to one mutant."""

    mutant: GeneratedMutant
    status: str
    failed: list[str] = field(default_factory=list)
    """``test_name [CATEGORY]`` of each test of its section that did not pass."""
    detail: str = ""

    def to_dict(self) -> dict:
        data = asdict(self.mutant)
        del data["source"]
        return {**data, "status": self.status, "failed": self.failed, "detail": self.detail}


def curated(course: Course, section: Section) -> list[GeneratedMutant]:
    """The hand-written mutants of ``section`` from ``tests/mutants/*.toml``."""
    out = []
    solution = (course.root / "solutions" / section.module).read_text(encoding="utf-8")
    for path in sorted((course.root / "tests" / "mutants").glob("*.toml")):
        for m in curated_mutants.load(path):
            if m.section != section.id:
                continue
            line = solution[: solution.find(m.find)].count("\n") + 1
            out.append(GeneratedMutant(section.id, f"solutions/{section.module}", line, "curated",
                                       m.find.splitlines()[0].strip(), (m.replace.splitlines() or [""])[0].strip(),
                                       curated_mutants.apply(m, course), name=m.name))
    return out


def candidates(course: Course, sections: list[Section], *, limit: int | None = None,
               operators: list[str] | None = None, with_curated: bool = True) -> dict[str, list[GeneratedMutant]]:
    """Per section: its hand-written mutants, then at most ``limit`` generated ones."""
    out = {}
    for s in sections:
        text = (course.root / "solutions" / s.module).read_text(encoding="utf-8")
        made = generate(text, section=s.id, file=f"solutions/{s.module}", operators=operators)
        out[s.id] = (curated(course, s) if with_curated else []) + select(made, limit)
    return out


def rounds(per_section: dict[str, list[GeneratedMutant]]) -> list[list[GeneratedMutant]]:
    """Round i: the i-th mutant of every section that has one."""
    depth = max((len(v) for v in per_section.values()), default=0)
    return [[v[i] for v in per_section.values() if len(v) > i] for i in range(depth)]


def _stop(proc: subprocess.Popen) -> None:
    """Ctrl-C the grading run (it kills its workers and writes its report), then SIGKILL its group."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def grade_round(batch: list[GeneratedMutant], course: Course, *, timeout: float, seed: int) -> list[Outcome]:
    """Grade one round (at most one mutant per section) in a subprocess."""
    with scratch("mutants") as tmp:
        sub, out = tmp / "submission", tmp / "report.json"
        for m in batch:
            target = sub / course.section(m.section).module
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(m.source, encoding="utf-8")
        argv = [sys.executable, "-m", "hfcourse.cli", "grade", "--target", str(sub), "--sections",
                *[m.section for m in batch], "--format", "json", "--out", str(out), "--seed", str(seed)]
        proc = subprocess.Popen(argv, cwd=course.root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            return [Outcome(m, "timeout", detail=f"the grading run took over {timeout:g} s") for m in batch]
        if not out.exists():
            tail = (err or "").strip().splitlines()[-3:]
            return [Outcome(m, "error", detail=" | ".join(tail) or f"exit status {proc.returncode}") for m in batch]
        report = json.loads(out.read_text(encoding="utf-8"))
    outcomes = []
    for m in batch:
        tests = [t for t in report["tests"] if t["section"] == m.section]
        failed = [f"{t['name']} [{t['category']}]" for t in tests if t["status"] != "passed"]
        if not tests:
            outcomes.append(Outcome(m, "error", detail="the grading run reported no test of this section"))
        else:
            outcomes.append(Outcome(m, "killed" if failed else "survived", failed))
    return outcomes


def run(course: Course, per_section: dict[str, list[GeneratedMutant]], *, jobs: int = 1, timeout: float = 900,
        seed: int = 0, on_round: Callable[[list[Outcome]], None] | None = None) -> dict:
    """Grade every mutant; the report as a JSON-ready dict (sections in course order)."""
    started = time.time()
    batches = rounds(per_section)
    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(grade_round, b, course, timeout=timeout, seed=seed) for b in batches]
        for future in futures:
            result = future.result()
            outcomes.extend(result)
            if on_round is not None:
                on_round(result)
    return report(per_section, outcomes, seed=seed, duration=time.time() - started)


def report(per_section: dict[str, list[GeneratedMutant]], outcomes: list[Outcome], *, seed: int,
           duration: float) -> dict:
    """Per section: killed / total and its survivors; every mutant's outcome."""
    sections = []
    for sid in per_section:
        mine = [o for o in outcomes if o.mutant.section == sid]
        counts = {s: sum(o.status == s for o in mine) for s in STATUSES}
        total = counts["killed"] + counts["survived"] + counts["timeout"]
        killed = counts["killed"] + counts["timeout"]
        sections.append({"section": sid, "killed": killed, "total": total,
                         "score": round(100 * killed / total, 1) if total else None, **{f"n_{k}": v for k, v in counts.items()},
                         "survivors": [o.to_dict() for o in mine if o.status == "survived"]})
    killed = sum(s["killed"] for s in sections)
    total = sum(s["total"] for s in sections)
    return {"seed": seed, "duration": round(duration, 1), "killed": killed, "total": total,
            "score": round(100 * killed / total, 1) if total else None, "sections": sections,
            "mutants": [o.to_dict() for o in outcomes]}
