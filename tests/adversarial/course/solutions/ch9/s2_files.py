"""9.2 Saving files — 保存文件: the honest submission of the adversarial test course."""

from pathlib import Path


def save(directory: Path, text: str) -> list[str]:
    """Write ``text`` to ``directory/note.txt`` (making the directory) and return the sorted
    names of the files in ``directory``."""
    # BEGIN SOLUTION
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "note.txt").write_text(text, encoding="utf-8")
    return sorted(p.name for p in directory.iterdir())
    # END SOLUTION


def log_line(state: Path, text: str) -> None:
    """Append ``text`` and a newline to ``state/log.txt``; ``state`` exists."""
    # BEGIN SOLUTION
    with open(Path(state) / "log.txt", "a", encoding="utf-8") as fh:
        fh.write(text + "\n")
    # END SOLUTION
