"""X37: files the grader must load but cannot (a note that is not UTF-8, a log that is a
directory): that is the student's reply failing, BAD_OUTPUT or REJECTED, never a fault of the
grader's that would be retried and kept out of the score."""
from pathlib import Path


def save(directory, text):
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "note.txt").write_bytes(b"\xff\xfe not utf-8 \x80")
    return ["note.txt"]


def log_line(state, text):
    (Path(state) / "log.txt").mkdir(exist_ok=True)
