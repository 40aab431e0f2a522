"""What every report says when the course's own code failed (GRADER_ERROR tests).

Such a test ran twice with the same seed and failed both times in the grader's code, not the
student's: it is not scored (its points leave the maximum), and every format says so in both
languages. The run's seed is secret: it is never in these lines (the JSON report holds it)."""

from __future__ import annotations

from hfcourse.results import RunResult

__all__ = ["fault_notice", "fault_lines"]


def fault_lines(run: RunResult) -> tuple[str, str]:
    """One sentence in English and one in Chinese: how many tests, how many points, what to do."""
    faults = run.course_faults
    names = ", ".join(f"{t.section} {t.name}" for t in faults[:6]) + (", …" if len(faults) > 6 else "")
    en = (f"The grader itself failed in {len(faults)} test(s) ({names}), twice each: this is not your mistake. "
          f"Those {run.ungraded:g} point(s) were not graded and are left out of the maximum; tell your instructor, "
          "who can grade your work again.")
    zh = (f"评分程序自身在 {len(faults)} 个测试中出错（{names}），各重试一次仍失败：这不是你的错误。"
          f"这 {run.ungraded:g} 分未评分，也不计入满分；请告诉老师，老师可以重新评分。")
    return en, zh


def fault_notice(run: RunResult, lang: str = "en") -> str:
    """The notice in the reader's language first, then the other one ("" when nothing failed)."""
    if not run.course_faults:
        return ""
    en, zh = fault_lines(run)
    return f"{zh}\n{en}" if lang == "zh" else f"{en}\n{zh}"
