"""X31: the saved directory is a link to a folder the sandbox cannot see, and the returned names
are that folder's: a grader that lists and reads through the link learns about host files (and
passes where the names match). The log is a FIFO, which would block a grader that opens it."""
import os
from pathlib import Path


def save(directory, text):
    os.symlink("/tmp/hfcourse-victim-dir", directory)
    return ["secret.txt"]


def log_line(state, text):
    log = Path(state) / "log.txt"
    if not log.exists():
        os.mkfifo(log)
