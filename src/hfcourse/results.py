"""The result model every report is rendered from."""

from __future__ import annotations

import json
import re
import os
import tempfile
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["TestResult", "BenchFigure", "RunResult", "CATEGORIES", "write_atomic", "sanitize"]

_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_DROPPED = {"Cc": "", "Cf": "", "Cs": "", "Zl": "\n", "Zp": "\n"}
"""Unicode categories that change how text reads rather than what it says: control codes,
format characters (bidi overrides and isolates, zero-width joiners, BOM, tags), surrogates;
line and paragraph separators become newlines."""


def _unformat(match: re.Match) -> str:
    c = match.group()
    return _DROPPED.get(unicodedata.category(c), c)


def sanitize(text: str, limit: int = 4000) -> str:
    """Printable text only (no ANSI escapes, control codes or Unicode format characters such as
    U+202E RIGHT-TO-LEFT OVERRIDE), at most ``limit`` characters."""
    text = _CONTROL.sub("", _NON_ASCII.sub(_unformat, text))
    return text if len(text) <= limit else text[: limit - 40] + f"\n[... {len(text) - limit + 40} characters cut]"

CATEGORIES = {
    "NOT_ATTEMPTED": ("the function still raises NotImplementedError", "函数仍然抛出 NotImplementedError，尚未实现"),
    "WRONG_RESULT": ("the function returned a wrong result", "函数返回了错误的结果"),
    "EXCEPTION": ("the function raised an exception", "函数抛出了异常"),
    "TIMEOUT": ("the call did not finish in time", "调用超时"),
    "MEMORY": ("the call ran out of memory", "调用超出内存限制"),
    "CRASH": ("the worker process died", "工作进程崩溃"),
    "BAD_OUTPUT": ("the returned value could not be read or used", "返回值无法读取或使用"),
    "UNSUPPORTED_TYPE": ("the function returned a type that cannot be graded", "返回了无法评分的类型"),
    "RESULT_TOO_BIG": ("the returned value is over the size limit", "返回值超出大小限制"),
    "DISK": ("the code wrote more to disk than the scratch directory holds", "代码写入磁盘的数据超出了临时目录的容量"),
    "SLOW": ("correct, but slower than the throughput threshold", "结果正确，但吞吐量低于阈值"),
    "REJECTED": ("a submitted or saved file was refused (a link, a special file, too large, or an unsafe archive entry)",
                 "提交或保存的文件被拒绝（链接、特殊文件、过大或不安全的压缩包条目）"),
    "GRADER_ERROR": ("the grader itself failed, twice: this is not your mistake and costs you no points; tell your instructor",
                     "评分程序自身出错（重试后仍失败）：这不是你的错误，也不扣分；请告诉老师"),
    "INTERRUPTED": ("not graded: the run was stopped (Ctrl-C or a time limit) before this test finished",
                    "未评分：在该测试完成前运行被中断（Ctrl-C 或时限）"),
}


@dataclass
class TestResult:
    """One grader test's outcome."""

    __test__ = False

    section: str
    name: str
    nodeid: str
    points: float
    max_points: float
    status: str
    """"passed" or "failed"."""
    category: str | None = None
    message: str = ""
    message_zh: str = ""
    """The message in Chinese, where the grader wrote one."""
    likely: str = ""
    likely_zh: str = ""
    output: str = ""
    fault: str = ""
    """Where the grader's own code failed (GRADER_ERROR): exception type and grader file:line,
    for the instructor; no values."""
    attempts: int = 1
    """How often the test ran: 2 when a GRADER_ERROR was retried with the same seed."""
    duration: float = 0.0
    visibility: str = "hidden"
    hint: str = ""
    hint_zh: str = ""

    @property
    def course_fault(self) -> bool:
        """The course failed here, not the student: the test is not scored (see RunResult.max_score)."""
        return self.category == "GRADER_ERROR"

    @property
    def message_both(self) -> str:
        """The message in English, then in Chinese where there is one (for bilingual reports)."""
        return "\n".join(m for m in (self.message, self.message_zh) if m)


@dataclass
class BenchFigure:
    """A throughput comparison measured in the same run."""

    section: str
    test: str
    unit: str
    student: float
    reference: float
    ratio: float
    threshold: float
    rounds: int


@dataclass
class RunResult:
    """A whole grading run."""

    target: str
    seed: int
    started: str
    duration: float = 0.0
    sandbox: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    sections: list[dict[str, Any]] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)
    benchmarks: list[BenchFigure] = field(default_factory=list)
    interrupted: bool = False
    errors: list[str] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    """The slowest call of each section and side: section, side, function, seconds, limit (its
    per-call time limit): how much room the limits leave on this machine."""

    @property
    def score(self) -> float:
        return sum(t.points for t in self.tests)

    @property
    def course_faults(self) -> list[TestResult]:
        """Tests the course itself failed (GRADER_ERROR after a retry): not scored."""
        return [t for t in self.tests if t.course_fault]

    @property
    def ungraded(self) -> float:
        """Points of the tests the course failed: taken out of ``max_score``, never counted as lost."""
        return sum(t.max_points for t in self.course_faults)

    @property
    def max_score(self) -> float:
        """The most the student could score in this run: the sections' points less ``ungraded``."""
        return sum(s["max_points"] for s in self.sections) - self.ungraded

    def section_score(self, sid: str) -> float:
        return sum(t.points for t in self.tests if t.section == sid)

    def section_max(self, sid: str) -> float:
        """A section's points less those of its tests the course failed."""
        nominal = next((s["max_points"] for s in self.sections if s["id"] == sid), 0.0)
        return nominal - sum(t.max_points for t in self.course_faults if t.section == sid)

    def to_json(self) -> str:
        data = asdict(self)
        data["score"], data["max_score"] = self.score, self.max_score
        data["course_fault"], data["ungraded"] = bool(self.course_faults), self.ungraded
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "RunResult":
        data = json.loads(text)
        for derived in ("score", "max_score", "course_fault", "ungraded"):
            data.pop(derived, None)
        data["tests"] = [TestResult(**t) for t in data.get("tests", [])]
        data["benchmarks"] = [BenchFigure(**b) for b in data.get("benchmarks", [])]
        return cls(**data)


def write_atomic(path: Path, text: str) -> None:
    """Write via a temp file and rename: readers see the old or the new file, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o644)  # a report is read by others (an instructor's web server, CI artifacts)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
