"""X30: at import, links under the names of directories the grader makes later (out/, state/):
creating them with mkdir(exist_ok=True) and chown would land on the link's target."""
import os
from pathlib import Path

for name in ("out", "state"):
    if not os.path.lexists(name):
        os.symlink("/tmp/hfcourse-victim-dir", name)


def save(directory, text):
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "note.txt").write_text(text, encoding="utf-8")
    return sorted(p.name for p in directory.iterdir())


def log_line(state, text):
    with open(Path(state) / "log.txt", "a", encoding="utf-8") as fh:
        fh.write(text + "\n")
