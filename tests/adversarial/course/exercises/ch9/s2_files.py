# Exercise 9.2: fill in every TODO, then run `hfcourse check 9.2`.
# 练习 9.2：完成每个 TODO，然后运行 `hfcourse check 9.2`。
"""9.2 Saving files — 保存文件: the honest submission of the adversarial test course."""

from pathlib import Path


def save(directory: Path, text: str) -> list[str]:
    """Write ``text`` to ``directory/note.txt`` (making the directory) and return the sorted
    names of the files in ``directory``."""
    # TODO: implement save (see the docstring)
    raise NotImplementedError("9.2 save: not implemented yet")


def log_line(state: Path, text: str) -> None:
    """Append ``text`` and a newline to ``state/log.txt``; ``state`` exists."""
    # TODO: implement log_line (see the docstring)
    raise NotImplementedError("9.2 log_line: not implemented yet")
