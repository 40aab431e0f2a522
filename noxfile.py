"""Sessions for the course: build fixtures, grade solutions or exercises, run the suite's tests."""

from __future__ import annotations

from pathlib import Path

import nox

nox.needs_version = ">=2024.4"
nox.options.sessions = ["solutions", "tests"]
nox.options.default_venv_backend = "virtualenv"

INSTALL = ("-c", "constraints.txt", "-e", ".[dev]")


def _install(session: nox.Session) -> None:
    session.install(*INSTALL)


@nox.session
def fixtures(session: nox.Session) -> None:
    """Build every fixture tokenizer, model and data set into the cache."""
    _install(session)
    session.run("hfcourse", "fixtures", "build", *session.posargs)


@nox.session
def solutions(session: nox.Session) -> None:
    """Grade the reference solutions (they must get full marks)."""
    _install(session)
    session.run("hfcourse", "grade", "--target", "solutions", *session.posargs)


@nox.session(default=False)
def exercises(session: nox.Session) -> None:
    """Grade exercises/ (the stubs, or your own work in them)."""
    _install(session)
    session.run("hfcourse", "grade", "--target", "exercises", *session.posargs)


@nox.session(default=False)
def validate(session: nox.Session) -> None:
    """Check the course: files, markers and points agree; solutions pass and stubs are NOT_ATTEMPTED."""
    _install(session)
    session.run("hfcourse", "validate", *session.posargs)


@nox.session(default=False)
def flakes(session: nox.Session) -> None:
    """Flake budget: the solutions of every section with 50 seeds, half under load, once on a fresh cache."""
    _install(session)
    session.run("hfcourse", "validate", "--flakes", "--seeds", "50", "--out", ".benchmarks/flakes.json", *session.posargs)


@nox.session(default=False)
def mutants(session: nox.Session) -> None:
    """Mutation score of the graders: killed / total per section, with the survivors."""
    _install(session)
    session.run("hfcourse", "mutants", *session.posargs)


@nox.session(default=False)
def notebooks(session: nox.Session) -> None:
    """Write the stub notebooks into notebooks/ and run the generated 2.2 notebooks in a Jupyter kernel."""
    _install(session)
    session.run("hfcourse", "notebook", "all", *session.posargs)
    session.run("pytest", "tests/test_notebooks.py")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmark the suite itself: grading speed (a section cold and warm, the whole course), worker
    start, call overhead, fixture builds, peak memory, benchmark fairness, and the reference solutions
    against bare loops. Saves the figures under .benchmarks/ and compares with the previous run."""
    _install(session)
    storage = "file://" + str(Path(".benchmarks").resolve())
    previous = any(Path(".benchmarks").glob("*/*.json"))
    session.run("pytest", "benchmarks", "--benchmark-autosave", f"--benchmark-storage={storage}",
                "--benchmark-columns=min,median,max,rounds", "--benchmark-sort=name",
                *(["--benchmark-compare"] if previous else []), *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the suite's own tests (harness, CLI, meta-tests of the graders)."""
    _install(session)
    session.run("pytest", *session.posargs)
