"""The pytest plugin: options, section markers from course.toml, grading fixtures and
result collection. Hooks and options only; the state lives in ``config.stash``."""

from __future__ import annotations

import hashlib
import random
import secrets
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from hfcourse import manifest
from hfcourse.session import Grading, StudentSide, classify, sandbox_facts, versions
from hfcourse.results import RunResult, TestResult, write_atomic

GRADING = pytest.StashKey[Grading]()
GRADE_KWARGS = {"points", "visibility", "hint", "hint_zh"}
VISIBILITY = ("hidden", "visible", "after_due_date", "after_published")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hfcourse", "hfcourse grading")
    group.addoption("--target", default="solutions",
                    help="what to grade: solutions, exercises, or a submission DIR laid out like exercises/. Default: %(default)r")
    group.addoption("--seed", type=int, default=None,
                    help="seed of the hidden tests' inputs; default: a fresh secret per run, recorded in the report")
    group.addoption("--report", default=None, help="write the run's JSON result to this file (atomically)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "grade(points, hint, hint_zh, visibility='hidden'): a grader test's points, visibility and bilingual hint")
    try:
        course = manifest.load()
    except FileNotFoundError:
        return
    for s in course.sections:
        config.addinivalue_line("markers", f"{s.marker}: section {s.id} {s.title}")
    seed = config.getoption("seed")
    config.stash[GRADING] = Grading(
        course=course,
        target=config.getoption("target"),
        seed=seed if seed is not None else secrets.randbits(31),
        report=config.getoption("report"),
    )


def _grading(config: pytest.Config) -> Grading | None:
    return config.stash.get(GRADING, None)


def pytest_sessionstart(session: pytest.Session) -> None:
    """A run of grader modules starts its worker zygote now, so that its imports overlap with
    collection (which imports torch in this process)."""
    grading = _grading(session.config)
    if grading is None:
        return
    graders = (grading.course.root / "graders").resolve()
    for arg in session.config.args:
        path = Path(arg.split("::", 1)[0]).resolve()
        if path == graders or graders in path.parents:
            grading.zygote()
            return


def _check_marker(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("grade")
    if mark is None:
        return "has no @pytest.mark.grade(points=…, hint=…, hint_zh=…)"
    unknown = set(mark.kwargs) - GRADE_KWARGS
    if mark.args or unknown:
        return f"grade marker takes only keywords {sorted(GRADE_KWARGS)}, got {sorted(unknown) or list(mark.args)}"
    pts = mark.kwargs.get("points")
    if not isinstance(pts, (int, float)) or pts <= 0:
        return "grade marker needs points > 0"
    if mark.kwargs.get("visibility", "hidden") not in VISIBILITY:
        return f"visibility must be one of {VISIBILITY}"
    if not (mark.kwargs.get("hint") and mark.kwargs.get("hint_zh")):
        return "grade marker needs a hint in English (hint=) and Chinese (hint_zh=)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    grading = _grading(config)
    if grading is None:
        return
    graders = grading.course.root / "graders"
    problems = []
    for item in items:
        path = Path(item.path)
        if graders not in path.parents:
            continue
        section = grading.course.by_grader(path.relative_to(graders).as_posix())
        if section is None:
            problems.append(f"{path}: not the grader of any section in course.toml")
            continue
        problem = _check_marker(item)
        if problem:
            problems.append(f"{item.nodeid}: {problem}")
            continue
        item.add_marker(section.marker)
        grading.items[item.nodeid] = (section, item.get_closest_marker("grade").kwargs)
    if problems:
        raise pytest.UsageError("grader tests are malformed:\n  " + "\n  ".join(problems))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Run a grader test; one that fails as GRADER_ERROR (an exception in the course's own code)
    runs once more with the same seed (``rng`` is drawn from seed and test id, so it draws the
    same inputs), on fresh workers. When it fails so again, it runs once as a *control*: the
    reference solution in the student's place, same seed. A control that passes shows that
    the grader works on these inputs with a correct reply, so what failed was the grader's
    use of the student's reply (BAD_OUTPUT, the student's); a control that fails too leaves
    GRADER_ERROR, the course's fault, not scored. Only the last attempt is reported."""
    grading = _grading(item.config)
    if grading is None or item.nodeid not in grading.items:
        return None
    from _pytest.runner import runtestprotocol

    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for attempt in (1, 2):
        grading.attempts[item.nodeid] = attempt
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        result = grading.results.get(item.nodeid)
        if attempt == 2 or result is None or not result.course_fault:
            break
        _fresh_workers(item, grading)
    result = grading.results.get(item.nodeid)
    if result is not None and result.course_fault and result.category == "GRADER_ERROR":
        _fresh_workers(item, grading)
        grading.begin_control(item.nodeid)
        try:
            runtestprotocol(item, nextitem=nextitem, log=False)
        finally:
            control = grading.end_control()
        if control is not None and control.status == "passed":
            _blame_reply(result)
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _fresh_workers(item: pytest.Item, grading: Grading) -> None:
    """Kill the workers a test used (a killed worker restarts, its module loaded again, on its
    next call), so that a test that runs again never meets a wedged or dead one."""
    for target in grading.used.pop(item.nodeid, ()):
        target.worker.kill()
    item._initrequest()


def _blame_reply(result: TestResult) -> None:
    """A grader error that the reference solution's reply does not cause: the student's reply did."""
    what = result.message.split("(", 1)[-1].split(")", 1)[0] if "(" in result.message else "an exception"
    result.category = "BAD_OUTPUT"
    result.message = (f"the grader could not use the returned value ({what}); it can with the reference "
                      "solution's on the same inputs: check the type, keys and shape of what you return")
    result.message_zh = (f"评分程序无法使用返回值（{what}）；换成参考解答在相同输入上的返回值则可以："
                         "检查返回值的类型、键和形状")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    rep = outcome.get_result()
    grading = _grading(item.config)
    if grading is None or item.nodeid not in grading.items:
        return
    if not (rep.when == "call" or (rep.when == "setup" and not rep.passed)):
        return
    control = grading.control == item.nodeid
    section, mark = grading.items[item.nodeid]
    result = TestResult(
        section=section.id, name=item.name, nodeid=item.nodeid, points=0.0,
        max_points=float(mark["points"]), status="failed", duration=rep.duration,
        visibility=mark.get("visibility", "hidden"), hint=mark["hint"], hint_zh=mark["hint_zh"],
        attempts=grading.attempts.get(item.nodeid, 1),
    )
    if rep.passed:
        result.status, result.points = "passed", result.max_points
    elif rep.skipped:
        result.category, result.message = "GRADER_ERROR", f"skipped: {rep.longrepr}: not your mistake: tell your instructor"
    else:
        classify(result, call.excinfo.value if call.excinfo else None)
        rep.longrepr = f"[{result.category}] {result.message}"
    if control:
        grading.control_result = result
        return
    funcargs = getattr(item, "funcargs", None) or {}
    grading.used[item.nodeid] = [t for t in (funcargs.get("student"), funcargs.get("reference"))
                                 if getattr(t, "worker", None) is not None]
    student = funcargs.get("student")
    if student is not None and getattr(student, "outputs", None):
        from hfcourse.results import sanitize

        result.output = sanitize("".join(student.outputs)[-8000:])
        student.outputs.clear()
    grading.results[item.nodeid] = result


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    grading = _grading(session.config)
    if grading is None:
        return
    grading.close()
    if not grading.items and not grading.report:
        return
    run = RunResult(
        target=grading.target, seed=grading.seed,
        started=datetime.fromtimestamp(grading.started, timezone.utc).isoformat(timespec="seconds"),
        duration=time.time() - grading.started, sandbox=sandbox_facts(), versions=versions(),
        interrupted=exitstatus == pytest.ExitCode.INTERRUPTED, benchmarks=grading.figures,
        calls=sorted(grading.calls.values(), key=lambda c: (c["section"], c["side"])),
    )
    per_section: dict[str, float] = {}
    for nodeid, (section, mark) in grading.items.items():
        per_section[section.id] = per_section.get(section.id, 0.0) + float(mark["points"])
        res = grading.results.get(nodeid)
        if res is None:
            res = TestResult(section=section.id, name=nodeid.rsplit("::", 1)[-1], nodeid=nodeid, points=0.0,
                             max_points=float(mark["points"]), status="failed",
                             category="INTERRUPTED" if run.interrupted else "GRADER_ERROR",
                             message="not graded: the run stopped before this test",
                             visibility=mark.get("visibility", "hidden"), hint=mark["hint"], hint_zh=mark["hint_zh"])
        run.tests.append(res)
    for sec in grading.course.sections:
        if sec.id in per_section:
            run.sections.append({"id": sec.id, "title": sec.title, "title_zh": sec.title_zh,
                                 "max_points": per_section[sec.id], "score": run.section_score(sec.id)})
    if grading.report:
        write_atomic(Path(grading.report), run.to_json())


# -- fixtures ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def grading(request: pytest.FixtureRequest) -> Grading:
    """The grading run's state (course, target, seed, workers)."""
    state = _grading(request.config)
    if state is None:
        pytest.fail("no course.toml found: run the graders inside the course checkout")
    return state


@pytest.fixture(scope="module")
def student(request: pytest.FixtureRequest, grading: Grading):
    """The graded code of this module's section, running in its own worker."""
    target = grading.student_target(grading.section_of(request.node.path))
    yield StudentSide(grading, target)
    grading.release(target)


@pytest.fixture(scope="module")
def reference(request: pytest.FixtureRequest, grading: Grading):
    """The reference solution of this module's section, in a trusted worker."""
    return grading.reference_target(grading.section_of(request.node.path))


@pytest.fixture(scope="session")
def fx(grading: Grading):
    """Built course fixtures: ``fx.ref(name)`` for workers, ``fx.load(name)`` in the grader."""
    return grading.fixtures


@pytest.fixture
def rng(request: pytest.FixtureRequest, grading: Grading) -> random.Random:
    """Random inputs drawn from the run's secret seed and this test's id."""
    digest = hashlib.sha256(f"{grading.seed}:{request.node.nodeid}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@pytest.fixture
def bench(request: pytest.FixtureRequest, grading: Grading, benchmark, student, reference):
    """Throughput comparison of student and reference (see hfcourse.bench)."""
    return grading.bench_for(request.node, benchmark, student, reference)
