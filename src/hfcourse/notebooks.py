"""Jupyter notebooks generated from the solutions, and notebook submissions turned back
into modules.

A section's notebook holds: the module docstring and course link (markdown), the module's
imports, constants and helpers (a setup cell), one code cell per function or class the
student completes (the stub text of ``hfcourse.stubs``, or the solution), and a last cell
that checks the saved notebook in place. Code cells carry ``{"hfcourse": {"section", "role",
"function"}}`` metadata; extraction concatenates the tagged setup/code/function cells of the
section in order, so untagged cells (a student's experiments) never reach the grader.

nbformat is imported lazily: it pulls in jsonschema, which is slow to import."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hfcourse import stubs
from hfcourse.manifest import Course, Section

__all__ = ["NotebookError", "build", "notebook_path", "write", "extract", "check", "KEY"]

KEY = "hfcourse"
EXTRACTED = ("setup", "code", "function")
MAX_NOTEBOOK_BYTES = 16 << 20
"""A notebook may carry outputs; the module extracted from it has the module size limit."""

_HOWTO = (
    "**How to work.** Fill in every cell marked `# TODO`: replace `raise NotImplementedError(...)` with your code "
    "and run the cell. Then **save the notebook (Ctrl-S)** and run the last cell: it grades the saved file with the "
    "same hidden tests as `hfcourse check {sid}`. Hidden tests draw new random inputs on every run. "
    "Cells you add yourself are never graded; only the cells this notebook came with are.\n\n"
    "**怎么做。** 完成每个标有 `# TODO` 的单元格：把 `raise NotImplementedError(...)` 换成你的代码并运行该单元格。"
    "然后**保存笔记本（Ctrl-S）**，再运行最后一个单元格：它用与 `hfcourse check {sid}` 相同的隐藏测试给已保存的文件评分。"
    "隐藏测试每次运行都会抽取新的随机输入。你自己添加的单元格不参与评分，只评分笔记本原有的单元格。"
)
_CHECK = (
    "# Check section {sid}: save the notebook first (Ctrl-S), then run this cell.\n"
    "# 检查 {sid} 小节：先保存笔记本（Ctrl-S），再运行本单元格。\n"
    "from hfcourse.notebooks import check\n\n"
    "check(\"{sid}\", \"{name}\")"
)


_UNSAVED = (
    "Note: the saved notebook's {names} differs from the cell you ran last. The check grades the saved file: "
    "save the notebook (Ctrl-S) and run this cell again.\n"
    "注意：已保存的笔记本中的 {names} 与你最后运行的单元格不同。检查的是已保存的文件：请保存笔记本（Ctrl-S）后重新运行本单元格。"
)


class NotebookError(ValueError):
    """A notebook that cannot be read or holds no exercise cells; the message says how to fix it."""


def notebook_path(section: Section) -> str:
    """The notebook's path relative to notebooks/: ``ch2/s2_behind_the_pipeline.ipynb``."""
    return section.module[: -len(".py")] + ".ipynb"


def section_url(course: Course, section: Section, lang: str = "en") -> str:
    """The course page of ``section``: the English course, or its zh-CN pages for ``lang="zh"``."""
    base = course.url.rstrip("/") + ("/zh-CN" if lang == "zh" else "")
    return f"{base}/chapter{section.chapter}/{section.number}"


def _exercise_names(solution: str) -> set[str]:
    """Top-level functions and classes that hold a solution region."""
    lines = solution.splitlines()
    return {
        node.name for node in ast.parse(solution).body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and any("# BEGIN SOLUTION" in line for line in lines[node.lineno - 1:node.end_lineno])
    }


def _segments(text: str, names: set[str]) -> tuple[str, list[tuple[str, str | None]]]:
    """The module docstring and the code split into cells: (source, function name or None)."""
    tree = ast.parse(text)
    lines = text.splitlines()
    body = list(tree.body)
    doc = ""
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        doc = body.pop(0).value.value
    cells: list[tuple[str, str | None]] = []
    start = tree.body[0].end_lineno if doc else 0
    for node in body:
        name = getattr(node, "name", None) if getattr(node, "name", None) in names else None
        chunk = "\n".join(lines[start:node.end_lineno])
        start = node.end_lineno
        if name is None and cells and cells[-1][1] is None:
            cells[-1] = (cells[-1][0] + "\n" + chunk, None)
        else:
            cells.append((chunk, name))
    return doc, [(source.strip("\n"), name) for source, name in cells]


def build(course: Course, section: Section, *, solutions: bool = False):
    """The notebook of ``section``: stubs for students, or the reference solution."""
    import nbformat.v4 as nbf

    solution = (course.root / "solutions" / section.module).read_text(encoding="utf-8")
    names = _exercise_names(solution)
    if solutions:
        text = solution
    else:
        header = stubs.HEADER.format(section=section.id)
        text = stubs.strip(solution, section.id, f"solutions/{section.module}")[len(header):]
    doc, segments = _segments(text, names)
    url, url_zh = section_url(course, section), section_url(course, section, "zh")
    intro = doc.split("\n", 1)[1].strip() if "\n" in doc else ""
    cells = [
        nbf.new_markdown_cell(f"# {section.id} {section.title} · {section.title_zh}\n\n{intro}\n\n"
                              f"Course section: [{url}]({url})  \n课程小节（中文）：[{url_zh}]({url_zh})"),
        nbf.new_markdown_cell(_HOWTO.format(sid=section.id)),
    ]
    seen_setup = False
    for source, name in segments:
        if name is None:
            role = "code" if seen_setup else "setup"
            seen_setup = True
            cells.append(nbf.new_code_cell(source, metadata={KEY: {"section": section.id, "role": role}}))
        else:
            cells.append(nbf.new_markdown_cell(f"### `{name}`"))
            cells.append(nbf.new_code_cell(source, metadata={KEY: {"section": section.id, "role": "function",
                                                                   "function": name}}))
    cells.append(nbf.new_code_cell(_CHECK.format(sid=section.id, name=Path(notebook_path(section)).name),
                                   metadata={KEY: {"section": section.id, "role": "check"}}))
    nb = nbf.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata[KEY] = {"section": section.id, "variant": "solutions" if solutions else "exercise"}
    return nb


def write(course: Course, sections: list[Section], out: Path, *, solutions: bool = False,
          force: bool = False) -> tuple[list[Path], list[Path]]:
    """Write the notebooks of ``sections`` under ``out``; returns (written, kept). An existing
    notebook is kept (it may hold a student's work) unless ``force``."""
    import nbformat

    written, kept = [], []
    for sec in sections:
        path = out / notebook_path(sec)
        if path.exists() and not force:
            kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(build(course, sec, solutions=solutions), str(path))
        written.append(path)
    return written, kept


def _drop_magics(source: str) -> str:
    """IPython-only lines (``%time``, ``!pip``) become comments: they are not Python."""
    return "\n".join(f"# {line}  # (notebook-only line, not graded)" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def section_of(data: bytes, course: Course, name: str) -> Section:
    """The section a lone notebook file belongs to: its metadata, else its file name."""
    try:
        meta = json.loads(data.decode("utf-8")).get("metadata", {}).get(KEY, {})
        sid = meta.get("section") if isinstance(meta, dict) else None
    except (ValueError, UnicodeDecodeError, AttributeError):
        sid = None
    for sec in course.sections:
        if sec.id == sid or Path(sec.module).stem == Path(name).stem:
            return sec
    raise NotebookError(f"{name}: cannot tell which section this notebook is (no hfcourse section in its metadata, "
                        "and its name is not sM_slug.ipynb): submit the notebook `hfcourse notebook` generated")


def extract(data: bytes, section: Section, name: str) -> str:
    """The module text of the tagged exercise cells of ``section`` in a notebook's bytes."""
    import nbformat

    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{name} is {len(data)} bytes, over the {MAX_NOTEBOOK_BYTES} byte limit for notebooks: "
                            "clear the outputs (Edit > Clear Outputs of All Cells) and save again")
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several kinds of errors for unreadable files
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise NotebookError(f"{name} is not a valid Jupyter notebook ({first}): open it in Jupyter and save it "
                            "again, or start over from `hfcourse notebook " + section.id + " --force`") from None
    parts = []
    for cell in nb.cells:
        tag = cell.get("metadata", {}).get(KEY)
        if cell.cell_type == "code" and isinstance(tag, dict) and tag.get("section") == section.id \
                and tag.get("role") in EXTRACTED:
            parts.append(_drop_magics(cell.source))
    if not parts:
        raise NotebookError(f"{name} holds no exercise cells of section {section.id} (code cells tagged with "
                            "hfcourse metadata): work in the notebook `hfcourse notebook " + section.id + "` generated")
    return f"# Extracted from {name} by hfcourse: the exercise cells of section {section.id}.\n" + "\n\n\n".join(parts) + "\n"


def check(section: str, notebook: str | os.PathLike, *, lang: str | None = None) -> None:
    """Grade the saved ``notebook`` on ``section`` (``hfcourse check SECTION --target NOTEBOOK``) and
    print the report as it comes; meant for the notebook's last cell."""
    path = Path(notebook)
    if not path.is_absolute():
        path = Path.cwd() / path
    if not path.is_file():
        session = os.environ.get("JPY_SESSION_NAME", "")
        if session.endswith(".ipynb") and Path(session).is_file():
            path = Path(session)
        else:
            print(f"cannot find the notebook {notebook} in {Path.cwd()}: save it, or pass its path: "
                  f"check(\"{section}\", \"path/to/notebook.ipynb\")\n"
                  f"在 {Path.cwd()} 中找不到笔记本 {notebook}：请先保存，或传入它的路径。")
            return
    unsaved = _unsaved_cells(path, section)
    if unsaved:
        print(_UNSAVED.format(names=", ".join(unsaved)), flush=True)
    cmd = [sys.executable, "-m", "hfcourse.cli", *(["--lang", lang] if lang else []), "check", section,
           "--target", str(path)]
    # a notebook is interactive: its checks start and use the check server like a terminal's
    env = {"HFCOURSE_SERVER": "1", **os.environ, "FORCE_COLOR": "1", "COLUMNS": "110"}
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)


def _unsaved_cells(path: Path, section: str) -> list[str]:
    """Exercise functions whose last run in this IPython kernel differs from the saved notebook."""
    try:
        from IPython import get_ipython
    except ImportError:
        return []
    shell = get_ipython()
    if shell is None:
        return []
    history = [str(cell) for cell in shell.user_ns.get("In", [])]
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return []
    unsaved = []
    for cell in cells:
        tag = cell.get("metadata", {}).get(KEY, {})
        if not (isinstance(tag, dict) and tag.get("section") == section and tag.get("role") == "function"):
            continue
        saved = "".join(cell.get("source", "")) if isinstance(cell.get("source"), list) else str(cell.get("source", ""))
        name = str(tag.get("function", ""))
        ran = [h for h in history if f"def {name}(" in h or f"class {name}" in h]
        if ran and ran[-1].strip() != saved.strip():
            unsaved.append(name)
    return unsaved
