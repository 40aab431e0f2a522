"""A student's progress, kept in ``.hfcourse/state.json`` at the course root: the last
check of each section (score, maximum, time, target) and how many hint levels were shown."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hfcourse.manifest import Course, Section
from hfcourse.results import RunResult, write_atomic

__all__ = ["State", "load", "record", "next_section"]

STATE_DIR = ".hfcourse"
STATE_FILE = "state.json"
VERSION = 1


class State:
    """The state file's contents; ``save`` writes it back atomically."""

    def __init__(self, path: Path, data: dict[str, Any]):
        self.path = path
        self.sections: dict[str, dict[str, Any]] = data.get("sections", {})
        self.hints: dict[str, int] = data.get("hints", {})

    def finished(self, section: Section) -> bool:
        entry = self.sections.get(section.id)
        return bool(entry) and entry["score"] >= entry["max"] > 0

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ignore = self.path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# hfcourse progress state: personal, never committed\n*\n", encoding="utf-8")
        write_atomic(self.path, json.dumps({"version": VERSION, "sections": self.sections, "hints": self.hints},
                                           ensure_ascii=False, indent=1))


def load(course: Course) -> State:
    """The state of ``course`` (empty when there is none yet or the file is unreadable)."""
    path = course.root / STATE_DIR / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != VERSION:
            data = {}
    except (OSError, ValueError):
        data = {}
    return State(path, data)


def record(course: Course, run: RunResult) -> State:
    """Store the score of every section ``run`` graded (an interrupted run is not recorded)."""
    state = load(course)
    if run.interrupted:
        return state
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    for sec in run.sections:
        state.sections[sec["id"]] = {"score": sec["score"], "max": sec["max_points"], "checked": now,
                                     "target": run.target}
    state.save()
    return state


def next_section(course: Course, state: State) -> Section | None:
    """The first ready section, in course order, without full marks in its last check."""
    return next((s for s in course.sections if s.ready and not state.finished(s)), None)
