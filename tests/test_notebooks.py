"""Notebooks generated from the solutions: their cells equal the exercise modules, notebook
submissions are staged like modules (REJECTED when malformed), and the generated 2.2
notebooks run in a real Jupyter kernel (slow): the solutions' notebook checks to full marks,
the stubs' notebook runs and reports NOT_ATTEMPTED."""

from __future__ import annotations

import ast
import json
import re
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from helpers import ROOT, run_cli, run_grade
from hfcourse import notebooks, stubs
from hfcourse.sandbox.client import StudentError
from hfcourse.targets import Source

ANSI = re.compile(r"\x1b\[[0-9;]*m")
SECTION = "2.2"
NB_PATH = "ch2/s2_behind_the_pipeline.ipynb"


def _body(source: str) -> list[str]:
    """The module's statements without its docstring, as AST dumps (comments and spacing aside)."""
    body = ast.parse(source).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return [ast.dump(node) for node in body]


def _nb_bytes(nb) -> bytes:
    return nbformat.writes(nb).encode("utf-8")


@pytest.mark.parametrize("variant", ["exercises", "solutions"])
def test_every_ready_section_round_trips_through_its_notebook(course, variant):
    for sec in (s for s in course.sections if s.ready):
        nb = notebooks.build(course, sec, solutions=variant == "solutions")
        nbformat.validate(nb)
        module = notebooks.extract(_nb_bytes(nb), sec, "x.ipynb")
        solution = (course.root / "solutions" / sec.module).read_text()
        # the stubs as generated, not exercises/: a student may have done some of those
        want = solution if variant == "solutions" else stubs.strip(solution, sec.id)
        assert _body(module) == _body(want), sec.id


def test_notebook_layout_and_tags(course):
    sec = course.section(SECTION)
    nb = notebooks.build(course, sec)
    assert nb.cells[0].cell_type == "markdown" and "chapter2/2" in nb.cells[0].source
    assert sec.title in nb.cells[0].source and sec.title_zh in nb.cells[0].source
    assert re.search(r"[\u4e00-\u9fff]", nb.cells[1].source) and "Ctrl-S" in nb.cells[1].source
    tags = [c.metadata.get("hfcourse") for c in nb.cells if c.cell_type == "code"]
    assert tags[0] == {"section": SECTION, "role": "setup"}
    assert [t["function"] for t in tags if t["role"] == "function"] == \
        ["preprocess", "hidden_states", "predict_proba", "predict_labels"]
    assert tags[-1]["role"] == "check" and 'check("2.2", "s2_behind_the_pipeline.ipynb")' in nb.cells[-1].source
    stub_cells = [c.source for c in nb.cells if c.metadata.get("hfcourse", {}).get("role") == "function"]
    assert all("raise NotImplementedError" in s and "# BEGIN SOLUTION" not in s for s in stub_cells)


def test_notebook_command_keeps_existing_work(tmp_path):
    out = tmp_path / "nbs"
    first = run_cli("notebook", SECTION, "--out", str(out), timeout=120)
    assert first.returncode == 0, first.stderr
    path = out / NB_PATH
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["hfcourse"] == {"section": SECTION, "variant": "exercise"}
    path.write_text(path.read_text().replace("not implemented yet", "MY WORK"))
    again = run_cli("notebook", SECTION, "--out", str(out), timeout=120)
    assert "kept" in again.stdout and "MY WORK" in path.read_text()
    run_cli("notebook", SECTION, "--out", str(out), "--force", timeout=120)
    assert "MY WORK" not in path.read_text()
    bad = run_cli("notebook", "9.9", "--out", str(out), timeout=120)
    assert bad.returncode == 2 and "9.9" in bad.stderr


# -- submissions ------------------------------------------------------------------------

def _student_nb(course, *, fill: str | None = None, extra_cell: str | None = None):
    """The stub notebook of 2.2, with one function cell replaced by the solution's."""
    sec = course.section(SECTION)
    nb = notebooks.build(course, sec)
    if fill:
        solution = {c.metadata["hfcourse"].get("function"): c.source
                    for c in notebooks.build(course, sec, solutions=True).cells if c.cell_type == "code"}
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.metadata["hfcourse"].get("function") == fill:
                cell.source = "%time 1 + 1\n" + solution[fill]
    if extra_cell:
        nb.cells.insert(3, nbformat.v4.new_code_cell(extra_cell))
    return nb


def _staged(course, target: Path) -> str | StudentError:
    source = Source(course, str(target))
    try:
        got = source.module(course.section(SECTION))
        return got if isinstance(got, StudentError) else got.read_text()
    finally:
        source.cleanup()


def test_lone_notebook_and_directory_and_zip_submissions(course, tmp_path):
    nb = _student_nb(course, fill="predict_proba", extra_cell="raise SystemExit('an untagged experiment')")
    lone = tmp_path / "mine.ipynb"
    lone.write_bytes(_nb_bytes(nb))
    folder = tmp_path / "sub"
    (folder / "ch2").mkdir(parents=True)
    (folder / NB_PATH).write_bytes(_nb_bytes(nb))
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(folder / NB_PATH, "notebooks/" + NB_PATH)
    for target in (lone, folder, archive):
        module = _staged(course, target)
        assert isinstance(module, str), (target, module)
        assert "untagged experiment" not in module and "# %time 1 + 1" in module
        assert "torch.softmax(logits, dim=-1)" in module and 'raise NotImplementedError("2.2 predict_labels' in module
        compile(module, "extracted", "exec")


@pytest.mark.parametrize("content, words", [
    (b"{this is not json", "not a valid Jupyter notebook"),
    (json.dumps({"cells": "nope", "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(), "not a valid Jupyter notebook"),
    (_nb_bytes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def preprocess(): pass")])), "no exercise cells"),
])
def test_malformed_notebooks_are_rejected(course, tmp_path, content, words):
    folder = tmp_path / "sub"
    (folder / "ch2").mkdir(parents=True)
    (folder / NB_PATH).write_bytes(content)
    got = _staged(course, folder)
    assert isinstance(got, StudentError) and got.category == "REJECTED" and words in got.message, got


def test_module_and_notebook_of_one_section_are_rejected_together(course, tmp_path):
    folder = tmp_path / "sub"
    (folder / "ch2").mkdir(parents=True)
    (folder / NB_PATH).write_bytes(_nb_bytes(_student_nb(course)))
    (folder / "ch2" / "s2_behind_the_pipeline.py").write_text((course.root / "solutions" / course.section(SECTION).module).read_text())
    got = _staged(course, folder)
    assert isinstance(got, StudentError) and got.category == "REJECTED" and "submit one of them" in got.message


def test_notebook_symlink_and_unknown_lone_notebook(course, tmp_path):
    folder = tmp_path / "sub"
    (folder / "ch2").mkdir(parents=True)
    real = tmp_path / "elsewhere.ipynb"
    real.write_bytes(_nb_bytes(_student_nb(course)))
    (folder / NB_PATH).symlink_to(real)
    got = _staged(course, folder)
    assert isinstance(got, StudentError) and got.category == "REJECTED" and "not a regular file" in got.message
    stray = tmp_path / "untitled.ipynb"
    stray.write_bytes(_nb_bytes(nbformat.v4.new_notebook()))
    got = _staged(course, stray)
    assert isinstance(got, StudentError) and got.category == "REJECTED" and "which section" in got.message


# -- executed in a real kernel (slow) ---------------------------------------------------

@pytest.fixture(scope="module")
def kernel_manager_factory(tmp_path_factory):
    """Kernels of this interpreter from a kernelspec in a temporary folder (nothing registered globally)."""
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    kernels = tmp_path_factory.mktemp("kernels")
    spec = kernels / "hfcourse-test"
    spec.mkdir()
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "hfcourse test", "language": "python"}))
    specs = KernelSpecManager(kernel_dirs=[str(kernels)])
    return lambda: KernelManager(kernel_name="hfcourse-test", kernel_spec_manager=specs)


def _execute(nb, folder: Path, make_km) -> str:
    """Run every cell in a fresh kernel whose working directory is the notebook's; the check cell's text."""
    from nbclient import NotebookClient

    NotebookClient(nb, km=make_km(), timeout=900, resources={"metadata": {"path": str(folder)}}).execute()
    check = nb.cells[-1]
    assert check.metadata["hfcourse"]["role"] == "check"
    return ANSI.sub("", "".join(o.get("text", "") for o in check.outputs if o.output_type == "stream"))


@pytest.mark.slow
def test_solutions_notebook_checks_to_full_marks(tmp_path, kernel_manager_factory):
    proc = run_cli("notebook", SECTION, "--solutions", "--out", str(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / NB_PATH
    nb = nbformat.read(path, as_version=4)
    text = _execute(nb, path.parent, kernel_manager_factory)
    assert "10 / 10" in text and "full marks" in text, text
    assert "differs from the cell you ran last" not in text, "every cell was saved as it ran"


@pytest.mark.slow
def test_stubs_notebook_runs_and_reports_not_attempted(tmp_path, kernel_manager_factory):
    proc = run_cli("notebook", SECTION, "--out", str(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / NB_PATH
    nb = nbformat.read(path, as_version=4)
    edited = next(c for c in nb.cells if c.metadata.get("hfcourse", {}).get("function") == "predict_labels")
    edited.source += "\n# an edit that was run but never saved"
    text = _execute(nb, path.parent, kernel_manager_factory)
    assert "0 / 10" in text and text.count("NOT_ATTEMPTED") == 5, text
    assert "saved notebook's predict_labels differs" in text and "preprocess" not in text.split("\n")[0], text


@pytest.mark.slow
def test_grade_a_folder_of_notebooks(course, tmp_path):
    folder = tmp_path / "submission"
    (folder / "ch2").mkdir(parents=True)
    (folder / NB_PATH).write_bytes(_nb_bytes(_student_nb(course, fill="predict_proba")))
    proc, report = run_grade("--target", str(folder), "--sections", SECTION)
    assert proc.returncode == 0 and report is not None, proc.stderr[-2000:]
    by_name = {t["name"]: t for t in report["tests"]}
    assert by_name["test_predict_proba_is_a_distribution_per_text"]["status"] == "passed"
    assert by_name["test_predict_proba_matches_reference"]["status"] == "passed"
    assert by_name["test_preprocess_pads_and_truncates"]["category"] == "NOT_ATTEMPTED"
    assert report["score"] == 4 and report["max_score"] == 10
