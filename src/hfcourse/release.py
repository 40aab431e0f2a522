"""The student release: exercises, public graders, fixture recipes and the harness, without
any solution text or hidden test.

A released grader module keeps only its tests marked ``visibility="visible"`` that run without
the reference solution: a test that asks for ``reference`` or ``bench`` (directly or through a
fixture of its module) needs the solution, so it stays with the hidden tests and runs when the
work is graded. Helper functions that only removed tests used are removed as well."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import hfcourse
from hfcourse import notebooks
from hfcourse.manifest import Course
from hfcourse.stubs import _BEGIN, _END

__all__ = ["ReleaseError", "PublicGrader", "public_grader", "build_release", "solution_blocks"]

NEEDS_SOLUTION = frozenset({"reference", "bench"})
"""Fixtures that run the reference solution."""
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".pytest_cache")
_TEMPLATES = Path(__file__).with_name("templates")
_MIN_LEAK = 24
"""Solution regions shorter than this (normalised) are too generic to search for."""


class ReleaseError(RuntimeError):
    """The release cannot be built; the message says why and what to do."""


@dataclass
class PublicGrader:
    """A grader module reduced to its public tests."""

    text: str
    kept: list[str] = field(default_factory=list)
    hidden: int = 0
    needs_solution: list[str] = field(default_factory=list)
    """Visible tests left out because they compare with the reference solution."""


def _grade_visibility(node: ast.FunctionDef) -> str:
    for dec in node.decorator_list:
        if isinstance(dec, ast.Call) and ast.unparse(dec.func).endswith("mark.grade"):
            for kw in dec.keywords:
                if kw.arg == "visibility":
                    try:
                        return str(ast.literal_eval(kw.value))
                    except ValueError:
                        return "hidden"
    return "hidden"


def _is_fixture(node: ast.FunctionDef) -> bool:
    return any(ast.unparse(d.func if isinstance(d, ast.Call) else d).endswith("fixture") for d in node.decorator_list)


def _params(node: ast.FunctionDef) -> set[str]:
    a = node.args
    return {p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]}


def _names(nodes: list[ast.AST]) -> set[str]:
    used: set[str] = set()
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                used.add(sub.id)
            elif isinstance(sub, ast.FunctionDef) and sub is not node:
                used |= _params(sub)
        if isinstance(node, ast.FunctionDef):
            used |= _params(node)
    return used


def _unreached(tree: ast.Module, funcs: dict[str, ast.FunctionDef], drop: set[str]) -> list[ast.stmt]:
    """Helper functions, fixtures and module constants that no kept test or kept helper refers to."""
    helpers: dict[str, ast.stmt] = {name: f for name, f in funcs.items()
                                    if not name.startswith("test") and name not in drop and not _autouse(f)}
    constants: dict[ast.stmt, set[str]] = {}
    for node in tree.body:
        names = _assigned(node)
        if names and not any(n.startswith("__") or n == "pytestmark" for n in names):
            constants[node] = names
    roots = [n for n in tree.body if n not in constants and getattr(n, "name", None) not in drop
             and getattr(n, "name", None) not in helpers]
    used: set[str] = _names(roots)
    reached: set[str] = set()
    live: set[ast.stmt] = set()
    while True:
        new = {h for h in helpers if h in used} - reached
        more = {c for c, names in constants.items() if names & used} - live
        if not new and not more:
            break
        reached |= new
        live |= more
        used |= _names([helpers[h] for h in new] + list(more))
    return [f for name, f in helpers.items() if name not in reached] + [c for c in constants if c not in live]


def _assigned(node: ast.stmt) -> set[str]:
    """Names a module-level assignment binds (empty for anything else)."""
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign):
        targets = [node.target]
    else:
        return set()
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _autouse(node: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Call) and any(kw.arg == "autouse" for kw in d.keywords) for d in node.decorator_list)


def _is_docstring(node: ast.stmt) -> bool:
    """A bare string statement (the attribute docstring that documents the statement above it)."""
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _span(node: ast.AST, lines: list[str]) -> range:
    """The lines of ``node`` (0-based), with its decorators and the comments right above it."""
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))]) - 1
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return range(start, node.end_lineno)


def public_grader(source: str, filename: str = "<grader>") -> PublicGrader:
    """The text of a grader module holding only its visible tests that need no reference solution."""
    tree = ast.parse(source, filename)
    funcs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            raise ReleaseError(f"{filename}:{node.lineno}: test class {node.name}: a release keeps test functions "
                               "only; write its tests as module-level functions")
    fixtures = {name for name, f in funcs.items() if _is_fixture(f)}
    needy = set(NEEDS_SOLUTION)
    while True:
        more = {name for name in fixtures if _params(funcs[name]) & needy} - needy
        if not more:
            break
        needy |= more
    result = PublicGrader(text="")
    drop: set[str] = set()
    for name, f in funcs.items():
        if not name.startswith("test"):
            continue
        if _grade_visibility(f) != "visible":
            result.hidden += 1
            drop.add(name)
        elif _params(f) & needy:
            result.needs_solution.append(name)
            drop.add(name)
        else:
            result.kept.append(name)
    removed = [funcs[name] for name in drop] + _unreached(tree, funcs, drop)
    body = tree.body
    removed += [body[i + 1] for i, node in enumerate(body[:-1]) if node in removed and _is_docstring(body[i + 1])]
    lines = source.splitlines(keepends=True)
    gone = {i for node in removed for i in _span(node, lines)}
    text = "".join(line for i, line in enumerate(lines) if i not in gone)
    kept_lines = text.splitlines(keepends=True)
    while kept_lines and (not kept_lines[-1].strip() or kept_lines[-1].lstrip().startswith("#")):
        kept_lines.pop()
    text = re.sub(r"\n{4,}", "\n\n\n", "".join(kept_lines))
    ast.parse(text, filename)
    result.text = text
    return result


def solution_blocks(source: str) -> list[str]:
    """The normalised text of each BEGIN/END SOLUTION region of a solution module."""
    blocks, current = [], None
    for line in source.splitlines():
        if _BEGIN.match(line):
            current = []
        elif _END.match(line):
            blocks.append(_normal("\n".join(current or [])))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def _normal(text: str) -> str:
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def _harness_checkout() -> Path:
    checkout = Path(hfcourse.__file__).resolve().parents[2]
    if not (checkout / "pyproject.toml").is_file():
        raise ReleaseError(f"the hfcourse package at {Path(hfcourse.__file__).parent} is not in a source checkout: "
                           "install the course with `pip install -e .` and run hfcourse release from it")
    return checkout


def _copy(src: Path, dst: Path) -> None:
    if src.is_dir():
        shutil.copytree(src, dst, ignore=_IGNORE, symlinks=False)
    elif src.is_file():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def _commit(root: Path) -> str | None:
    try:
        proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def _readme(course: Course, rows: list[tuple[str, str, str, int, float]], guides: list[str]) -> str:
    table = "\n".join(f"| {sid} | {title} | {title_zh} | {n} | {pts:g} |" for sid, title, title_zh, n, pts in rows)
    first = next((sid for sid, *_ in rows if sid.startswith("2.")), rows[0][0] if rows else "1.1")
    template = (_TEMPLATES / "release_README.md").read_text(encoding="utf-8")
    guide = ("\nMore in / 详见: " + ", ".join(f"[{g}]({g})" for g in guides) + "\n") if guides else ""
    return template.format(guide=guide, title=course.title, title_zh=course.title_zh, url=course.url, sections=table,
                           first=first, first_chapter=first.split(".")[0])


def _leaks(course: Course, out: Path) -> list[str]:
    """Released files that contain a whole solution region."""
    blocks = []
    for s in course.sections:
        sol = course.root / "solutions" / s.module
        if s.ready and sol.is_file():
            blocks += [(s.id, b) for b in solution_blocks(sol.read_text(encoding="utf-8")) if len(b) >= _MIN_LEAK]
    found = []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        try:
            text = _normal(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, OSError):
            continue
        found += [f"{path.relative_to(out)} holds solution text of {sid}" for sid, b in blocks if b in text]
    return found


def build_release(course: Course, out: Path, *, force: bool = False, classroom: bool = False,
                  log: Callable[[str], None] = print) -> dict:
    """Write the student release of ``course`` into ``out``; returns its summary (also ``release.json``)."""
    out = Path(out).resolve()
    root = course.root.resolve()
    if out == root or root in out.parents:
        raise ReleaseError(f"{out} is inside the course checkout: choose a directory outside it")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise ReleaseError(f"{out} exists and is not empty: choose a new directory or pass --force to replace it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    checkout = _harness_checkout()
    ready = [s for s in course.sections if s.ready]

    log("harness / 评分框架: src/hfcourse, pyproject.toml, constraints.txt")
    _copy(checkout / "src" / "hfcourse", out / "src" / "hfcourse")
    for name in ("pyproject.toml", "constraints.txt", "LICENSE"):
        _copy(checkout / name, out / name)
    log("course / 课程: course.toml, fixtures/, docs/students*")
    _copy(root / "course.toml", out / "course.toml")
    _copy(root / "fixtures", out / "fixtures")
    for doc in sorted((root / "docs").glob("students*")):
        _copy(doc, out / "docs" / doc.name)
    (out / ".gitignore").write_text(".venv/\n__pycache__/\n*.egg-info/\n.pytest_cache/\n", encoding="utf-8")

    summary: dict = {"course": course.title, "commit": _commit(root), "sections": []}
    rows = []
    for s in ready:
        log(f"section / 小节 {s.id}: exercise and public tests / 练习和公开测试")
        _copy(root / "exercises" / s.module, out / "exercises" / s.module)
        grader = root / "graders" / s.grader
        public = public_grader(grader.read_text(encoding="utf-8"), str(grader.relative_to(root)))
        target = out / "graders" / s.grader
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(public.text, encoding="utf-8")
        summary["sections"].append({"id": s.id, "public_tests": public.kept, "hidden_tests": public.hidden,
                                    "visible_tests_needing_the_solution": public.needs_solution})
        rows.append((s.id, s.title, s.title_zh, len(public.kept), s.points))
    for extra in ("__init__.py", "README.md"):
        for path in (root / "exercises").rglob(extra):
            _copy(path, out / path.relative_to(root))
    log("notebooks / 笔记本: one per section, from the exercises / 每个小节一个，由练习生成")
    notebooks.write(course, ready, out / "notebooks")
    if classroom:
        workflow = out / ".github" / "workflows" / "classroom.yml"
        workflow.parent.mkdir(parents=True)
        workflow.write_text((_TEMPLATES / "classroom.yml").read_text(encoding="utf-8").replace("{{sections}}", ""),
                            encoding="utf-8")
    guides = sorted(p.relative_to(out).as_posix() for p in (out / "docs").glob("students*.md"))
    (out / "README.md").write_text(_readme(course, rows, guides), encoding="utf-8")
    leaks = _leaks(course, out)
    if leaks:
        shutil.rmtree(out)
        raise ReleaseError("solution text would be released: " + "; ".join(leaks) +
                           ". Remove it from those files (notebooks and docs must be built from exercises/)")
    (out / "release.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    return summary

