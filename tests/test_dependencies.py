"""Every third-party module that the harness, graders, solutions, fixtures or tests import is a
declared dependency in pyproject.toml: a clean install (CI, a student's laptop) gets it."""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys

from helpers import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCANNED = ("src", "graders", "solutions", "exercises", "fixtures", "tests", "noxfile.py")
LOCAL = {"hfcourse", "helpers", "graders", "conftest"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"]) + [d for extra in project.get("optional-dependencies", {}).values() for d in extra]
    return {_norm(re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0]) for spec in specs}


def _guarded(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """An import inside ``try: … except ImportError`` or an ``if sys.version_info`` branch is optional."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError") for h in node.handlers
        ):
            return True
        if isinstance(node, ast.If) and "version_info" in ast.unparse(node.test):
            return True
    return False


def _imports() -> dict[str, set[str]]:
    """Top-level names of absolute imports -> files importing them."""
    found: dict[str, set[str]] = {}
    for entry in SCANNED:
        path = ROOT / entry
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in files:
            if "submissions" in file.parts or ".venv" in file.parts:
                continue
            tree = ast.parse(file.read_text(encoding="utf-8"))
            parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
            local = {p.stem for p in file.parent.glob("*.py")}
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    names = [node.module]
                else:
                    continue
                if _guarded(node, parents):
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in LOCAL or top in local:
                        continue
                    found.setdefault(top, set()).add(str(file.relative_to(ROOT)))
    return found


def test_every_imported_library_is_declared():
    declared = _declared()
    providers = md.packages_distributions()
    missing = []
    for module, files in sorted(_imports().items()):
        dists = {_norm(d) for d in providers.get(module, [])}
        if not dists:
            missing.append(f"{module}: not installed (imported by {', '.join(sorted(files)[:3])})")
        elif not dists & declared:
            missing.append(f"{module} (from {', '.join(sorted(dists))}): add it to pyproject.toml "
                           f"(imported by {', '.join(sorted(files)[:3])})")
    assert not missing, "undeclared dependencies:\n" + "\n".join(missing)


def test_the_scan_sees_real_imports():
    imported = _imports()
    assert {"torch", "transformers", "sklearn"} <= set(imported)
