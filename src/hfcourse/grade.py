"""Grade a target: run the grader tests with pytest in this process and read back the result.

The grader process never imports student code: the plugin starts workers for it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hfcourse import manifest
from hfcourse.paths import scratch_dir, sweep_scratch
from hfcourse.results import RunResult

__all__ = ["GradeError", "grade", "resolve_target"]


class GradeError(RuntimeError):
    """Grading could not run at all (as opposed to a low score)."""


def resolve_target(target: str) -> str:
    """``solutions``, ``exercises``, or an absolute path to a submission directory, .zip or notebook."""
    if target in ("solutions", "exercises"):
        return target
    path = Path(target).expanduser().resolve()
    if not (path.is_dir() or (path.is_file() and path.suffix in (".zip", ".ipynb"))):
        raise GradeError(f"--target {target}: no such directory, .zip or .ipynb file. Use solutions, exercises, a "
                         "submission laid out like exercises/ (ch2/s2_behind_the_pipeline.py, …) or a section's notebook")
    return str(path)


def grade(*, target: str = "solutions", sections: list[str] | None = None, seed: int | None = None,
          verbose: bool = False, pytest_args: tuple[str, ...] = (), jobs: int = 1) -> RunResult:
    """Grade the ready sections named by ``sections`` (ids or chapters; all when empty), in
    ``jobs`` parallel processes when there are several sections (see hfcourse.parallel)."""
    import pytest

    from hfcourse import parallel

    course = manifest.load()
    sweep_scratch()
    try:
        chosen = course.select(sections)
    except KeyError as exc:
        raise GradeError(str(exc.args[0])) from None
    paths = [course.root / "graders" / s.grader for s in chosen]
    missing = [str(p.relative_to(course.root)) for p in paths if not p.is_file()]
    if missing:
        raise GradeError(f"grader modules missing: {', '.join(missing)} (is the section really ready in course.toml?)")
    if jobs > 1 and len(chosen) > 1 and not pytest_args:
        run = parallel.grade_parallel(course, chosen, target=resolve_target(target), seed=seed, jobs=jobs,
                                      verbose=verbose)
        parallel.record_timings(run)
        return run
    scratch = scratch_dir("run")
    report = str(scratch / "report.json")
    args = [
        *map(str, paths), "--target", resolve_target(target), "--report", report,
        "-c", str(Path(__file__).with_name("grading.ini")), "--rootdir", str(course.root),
        "--tb=no", "--benchmark-quiet", "--benchmark-disable-gc", f"--benchmark-storage=file://{scratch / 'benchmarks'}",
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
        "-q" if not verbose else "-v", *pytest_args,
    ]
    if seed is not None:
        args += ["--seed", str(seed)]
    saved = os.environ.pop("PYTEST_ADDOPTS", None)
    try:
        code = pytest.main(args)
    finally:
        if saved is not None:
            os.environ["PYTEST_ADDOPTS"] = saved
    try:
        text = Path(report).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GradeError(f"pytest stopped (exit code {int(code)}) before grading anything; its output above says why") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    run = RunResult.from_json(text)
    parallel.record_timings(run)
    return run
