"""Grader of the adversarial course's file section: the grader reads what the student saved,
and makes directories in the student's scratch before the student's functions run."""

import pytest

from hfcourse import expect
from hfcourse.sandbox.codec import ScratchPath


@pytest.mark.grade(points=1, visibility="visible", hint="mkdir, write note.txt, list the directory", hint_zh="创建目录、写入 note.txt、列出目录")
def test_save(student, rng):
    text = f"note {rng.randrange(10**6)}"
    target = student.scratch("out/saved")
    names = student.save(target, text)
    folder = student.collect(target)
    expect.equal(names, sorted(p.name for p in folder.iterdir()), "file names returned")
    saved = student.saved(target, lambda copy: (copy / "note.txt").read_text(encoding="utf-8"), "the saved note")
    expect.equal(saved, text, "the saved note")


@pytest.mark.grade(points=1, hint="append to state/log.txt", hint_zh="追加写入 state/log.txt")
def test_log_line(student, rng):
    texts = [f"line {rng.randrange(10**6)}" for _ in range(3)]
    log = student.scratch("state/inner/log.txt")  # the grader makes state/inner for the student
    for text in texts:
        student.log_line(ScratchPath("state/inner"), text)
    lines = student.saved(log, lambda copy: copy.read_text(encoding="utf-8").splitlines(), "the log")
    expect.equal(lines, texts, "lines of the log")
