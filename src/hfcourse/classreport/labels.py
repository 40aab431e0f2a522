"""Every fixed text of the class report and the student page, in English and Chinese."""

from __future__ import annotations

from markupsafe import Markup, escape

__all__ = ["LABELS", "bi", "t"]

LABELS: dict[str, tuple[str, str]] = {
    "class_report": ("Class report", "班级成绩报告"),
    "feedback_for": ("Feedback for", "成绩反馈："),
    "language": ("Language", "语言"),
    "summary": ("{graded} graded, {errors} could not be graded · mean {mean} · median {median}",
                "已评分 {graded} 人，{errors} 人无法评分 · 平均 {mean} · 中位数 {median}"),
    "distribution": ("Score distribution", "成绩分布"),
    "overall": ("Overall (share of the maximum score, students per bin)", "总分（占满分的比例，每个区间的人数）"),
    "per_section": ("Per section (share of the section's points; box: quartiles, bar: median, dots: students)",
                    "各小节（占该小节分数的比例；方框：四分位数，竖线：中位数，圆点：学生）"),
    "sections": ("Sections", "小节"),
    "section": ("Section", "小节"),
    "title": ("Title", "标题"),
    "mean": ("Mean", "平均"),
    "median": ("Median", "中位数"),
    "full_marks": ("Full marks", "满分人数"),
    "not_attempted_n": ("Not attempted", "未作答人数"),
    "course_link": ("Course", "课程"),
    "heatmap": ("Students × sections", "学生 × 小节"),
    "heatmap_help": ("Share of each section's points. Click a column heading to sort; n/a = not attempted.",
                     "每个小节得分的比例。点击列标题排序；n/a 表示未作答。"),
    "student": ("Student", "学生"),
    "total": ("Total", "总分"),
    "failing": ("Tests that fail most", "失败最多的测试"),
    "test": ("Test", "测试"),
    "visibility": ("Visibility", "可见性"),
    "failed": ("Failed", "失败"),
    "other": ("Other", "其他"),
    "hint": ("Hint", "提示"),
    "no_failures": ("Every test passed for every graded student.", "所有已评分学生的所有测试都通过了。"),
    "benchmarks": ("Throughput (student / reference)", "吞吐量（学生 / 参考答案）"),
    "bench_help": ("Ratio of the student's throughput to the reference measured in the same run; "
                   "the dashed red line is the passing threshold.",
                   "学生吞吐量与同一次运行中参考答案吞吐量之比；红色虚线为及格阈值。"),
    "no_benchmarks": ("No benchmark figures in this batch.", "本批次没有吞吐量数据。"),
    "not_graded": ("Could not be graded", "无法评分"),
    "error": ("Error", "错误"),
    "facts": ("The grading run", "评分运行信息"),
    "facts_help": ("Instructor copy only: the seeds let you repeat a grading with `hfcourse grade --seed N`.",
                   "仅供教师：可用 `hfcourse grade --seed N` 按种子重复评分。"),
    "course": ("Course", "课程"),
    "batch_started": ("Batch started", "批次开始"),
    "batch_finished": ("Batch finished", "批次结束"),
    "runs": ("Gradings", "评分时间"),
    "batch_seed": ("Batch seed", "批次种子"),
    "seed_per_student": ("a secret seed per student (below)", "每个学生一个秘密种子（见下表）"),
    "sandbox": ("Sandbox level", "沙箱级别"),
    "versions": ("Versions", "版本"),
    "seed": ("Seed", "种子"),
    "duration": ("Duration", "用时"),
    "submission": ("Submission", "提交"),
    "status": ("Status", "状态"),
    "score": ("Score", "得分"),
    "points": ("Points", "分数"),
    "visible_tests": ("Tests you can see", "可见测试"),
    "message": ("What happened", "结果说明"),
    "likely": ("Likely mistake", "可能的错误"),
    "passed": ("passed", "通过"),
    "failed_one": ("failed", "未通过"),
    "hidden_counts": ("Hidden tests: {passed} passed, {failed} failed ({points} of {max} points)",
                      "隐藏测试：{passed} 个通过，{failed} 个未通过（{points} / {max} 分）"),
    "no_hidden": ("No hidden tests in this section.", "本小节没有隐藏测试。"),
    "hidden_help": ("Hidden tests check your code on inputs you have not seen; their details stay hidden so "
                    "that they keep testing what you understood.",
                    "隐藏测试用你没见过的输入检查代码；为保证它们检验的是真正的理解，其细节不公开。"),
    "graded_on": ("Graded on", "评分时间"),
    "your_throughput": ("Throughput of your code", "你的代码的吞吐量"),
    "reference": ("Reference", "参考答案"),
    "ratio": ("Ratio", "比值"),
    "threshold": ("Threshold", "阈值"),
    "ungraded_student": ("Your submission could not be graded. Ask your instructor: the batch log says why.",
                         "你的提交无法评分。请询问老师：批次日志中有原因。"),
    "interrupted": ("This grading was interrupted: the results are partial.", "本次评分被中断：结果不完整。"),
}


def bi(en: str, zh: str) -> Markup:
    """Both languages of one text; the page's language switch shows one of them."""
    return Markup('<span lang="en">{}</span><span lang="zh">{}</span>').format(en, zh or en)


def t(key: str, **values: object) -> Markup:
    """The label ``key`` in both languages, with ``values`` filled in (escaped)."""
    en, zh = LABELS[key]
    safe = {k: escape(v) for k, v in values.items()}
    return bi(Markup(escape(en).format(**safe)), Markup(escape(zh).format(**safe)))
