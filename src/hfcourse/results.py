"""The result model every report is rendered from."""

from __future__ import annotations

import json
import re
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["TestResult", "BenchFigure", "RunResult", "CATEGORIES", "write_atomic", "sanitize"]

_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def sanitize(text: str, limit: int = 4000) -> str:
    """Printable text only (no ANSI escapes or control characters), at most ``limit`` characters."""
    text = _CONTROL.sub("", text)
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
    "SLOW": ("correct, but slower than the throughput threshold", "结果正确，但吞吐量低于阈值"),
    "REJECTED": ("the submitted file was refused (a symlink, too large, or an unsafe archive entry)", "提交的文件被拒绝（符号链接、过大或不安全的压缩包条目）"),
    "GRADER_ERROR": ("the grader itself failed: tell your instructor", "评分程序自身出错，请告知老师"),
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
    duration: float = 0.0
    visibility: str = "hidden"
    hint: str = ""
    hint_zh: str = ""

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

    @property
    def score(self) -> float:
        return sum(t.points for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(s["max_points"] for s in self.sections)

    def section_score(self, sid: str) -> float:
        return sum(t.points for t in self.tests if t.section == sid)

    def to_json(self) -> str:
        data = asdict(self)
        data["score"], data["max_score"] = self.score, self.max_score
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "RunResult":
        data = json.loads(text)
        data.pop("score", None)
        data.pop("max_score", None)
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
