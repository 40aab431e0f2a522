"""A student's progress, kept in ``.hfcourse/state.json`` at the course root: the last
check of each section (score, maximum, time, target, and the checked file's digest, so that
``status`` can tell a file changed since its check) and how many hint levels were shown."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hfcourse.manifest import Course, Section
from hfcourse.results import RunResult, write_atomic

__all__ = ["State", "load", "record", "next_section", "checked_file", "summary"]

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

    def changed(self, course: Course, section: Section) -> bool:
        """The file of the section's last check differs from what that check graded."""
        entry = self.sections.get(section.id)
        if not entry or "digest" not in entry:
            return False
        return _digest(Path(entry.get("file") or checked_file(course, section, entry["target"]))) != entry["digest"]

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
        entry = {"score": sec["score"], "max": sec["max_points"], "checked": now, "target": run.target}
        try:
            path = checked_file(course, course.section(sec["id"]), run.target).resolve()
            entry.update(file=str(path), digest=_digest(path))
        except KeyError:
            pass
        state.sections[sec["id"]] = entry
    state.save()
    return state


def next_section(course: Course, state: State) -> Section | None:
    """The first ready section, in course order, without full marks in its last check."""
    return next((s for s in course.sections if s.ready and not state.finished(s)), None)


def checked_file(course: Course, section: Section, target: str) -> Path:
    """The file a check of ``section`` on ``target`` graded: the module in exercises/ (or a
    submission directory), the notebook, or the .zip itself."""
    if target in ("exercises", "solutions"):
        return course.root / target / section.module
    path = Path(target)
    return path / section.module if path.is_dir() else path


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return None


def summary(course: Course, state: State) -> tuple[int, int, float, float]:
    """(sections at full marks, ready sections, points earned, points possible)."""
    ready = [s for s in course.sections if s.ready]
    done = sum(state.finished(s) for s in ready)
    score = sum(state.sections[s.id]["score"] for s in ready if s.id in state.sections)
    return done, len(ready), score, sum(s.points for s in ready)
