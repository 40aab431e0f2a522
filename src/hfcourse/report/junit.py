"""JUnit XML: one ``<testsuite>`` per section, valid against the JUnit schema pytest tests with.

That schema allows ``<properties>`` on a test suite only, so the points live there: the section's
``points`` / ``max_points`` and, per test, ``<test name>.points`` / ``<test name>.max_points``.
A failed test carries ``<failure type="CATEGORY" message="…">`` (hidden tests' messages hold no
expected values), and a test the course's own code failed (GRADER_ERROR, not scored) ``<error>``; printed output appears as ``<system-out>`` for visible tests only."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from hfcourse.report.exercism import feedback
from hfcourse.results import RunResult, TestResult, sanitize

__all__ = ["junit_xml"]

_NOT_XML = re.compile("[\ufffe\uffff]")


def _text(value: str, limit: int = 20000) -> str:
    """Characters XML 1.0 accepts: no control characters, surrogates or U+FFFE/U+FFFF."""
    return _NOT_XML.sub("", sanitize(value, limit))


def _time(seconds: float) -> str:
    return f"{max(seconds, 0.0):.3f}"


def _points(value: float) -> str:
    return f"{value:g}"


def _classname(t: TestResult) -> str:
    path = t.nodeid.partition("::")[0]
    return path.removesuffix(".py").replace("/", ".") or f"section {t.section}"


def _suite(parent: ET.Element, run: RunResult, section: dict, timestamp: str) -> tuple[int, int, float]:
    tests = [t for t in run.tests if t.section == section["id"]]
    errors = sum(t.course_fault for t in tests)
    failures = sum(t.status != "passed" for t in tests) - errors
    elapsed = sum(t.duration for t in tests)
    suite = ET.SubElement(parent, "testsuite", {
        "name": _text(f"{section['id']} {section.get('title', '')}".strip()),
        "tests": str(len(tests)), "failures": str(failures), "errors": str(errors), "skipped": "0",
        "time": _time(elapsed), "timestamp": timestamp, "package": "hfcourse",
    })
    props = ET.SubElement(suite, "properties")
    entries = [("section", section["id"]), ("title_zh", section.get("title_zh", "")),
               ("points", _points(run.section_score(section["id"]))), ("max_points", _points(run.section_max(section["id"])))]
    if errors:
        entries.append(("course_fault", f"{errors} test(s) failed in the grader's own code, not scored"))
    for t in tests:
        entries += [(f"{t.name}.points", _points(t.points)), (f"{t.name}.max_points", _points(t.max_points)),
                    (f"{t.name}.visibility", t.visibility)]
    for name, value in entries:
        ET.SubElement(props, "property", {"name": _text(name), "value": _text(value)})
    for t in tests:
        case = ET.SubElement(suite, "testcase", {"classname": _text(_classname(t)), "name": _text(t.name),
                                                  "time": _time(t.duration)})
        if t.status != "passed":
            first = (t.message.splitlines() or [t.category or "failed"])[0]
            # JUnit's <error>: the test could not run (here: the course's fault, not scored)
            kind = "error" if t.course_fault else "failure"
            failure = ET.SubElement(case, kind, {"type": t.category or "WRONG_RESULT", "message": _text(first, 500)})
            failure.text = _text(feedback(t))
        if t.visibility == "visible" and t.output:
            ET.SubElement(case, "system-out").text = _text(t.output)
    return len(tests), failures, errors, elapsed


def junit_xml(run: RunResult) -> str:
    """The XML text of ``run``: ``<testsuites>`` holding one ``<testsuite>`` per section."""
    root = ET.Element("testsuites", {"name": "hfcourse"})
    total = failed = errored = 0
    elapsed = 0.0
    timestamp = run.started or ""
    for section in run.sections:
        n, f, r, e = _suite(root, run, section, timestamp)
        total, failed, errored, elapsed = total + n, failed + f, errored + r, elapsed + e
    root.set("tests", str(total))
    root.set("failures", str(failed))
    root.set("errors", str(errored))
    root.set("time", _time(run.duration or elapsed))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
