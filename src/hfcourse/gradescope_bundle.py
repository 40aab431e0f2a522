"""Autograder platforms: the Gradescope bundle and the GitHub Classroom workflow.

Gradescope unpacks the bundle into ``/autograder/source``, runs ``setup.sh`` once to build its image,
then ``run_autograder`` for every submission; that script stages ``/autograder/submission`` into the
exercises layout and writes ``/autograder/results/results.json``, also when grading cannot run.
``AUTOGRADER_ROOT`` moves ``/autograder`` (for trying the bundle locally).

The GitHub Classroom workflow grades the student's repository with the hidden graders of a private
course checkout and hands the points to Classroom's grading reporter (``classroom_result``).

``python -m hfcourse.gradescope_bundle stage SUBMISSION DIR`` and ``… fail RESULTS LOG`` are the two
steps ``run_autograder`` calls besides ``hfcourse grade``."""

from __future__ import annotations

import base64
import json
import os
import shlex
import shutil
import sys
import zipfile
from pathlib import Path

from hfcourse.manifest import Course, Section
from hfcourse.results import CATEGORIES, RunResult, sanitize

__all__ = ["BundleError", "build_bundle", "stage_submission", "failure_results", "classroom_result",
           "classroom_workflow", "classroom_output"]

TEMPLATES = Path(__file__).with_name("templates")
_SKIP = {"__pycache__", ".pytest_cache"}


class BundleError(RuntimeError):
    """The bundle cannot be built; the message says why."""


def _course_files(course: Course, sections: list[Section], checkout: Path) -> list[tuple[Path, str]]:
    """(file, name in the bundle) for the harness and the graded sections."""
    files = [(checkout / name, name) for name in ("pyproject.toml", "constraints.txt", "README.md")]
    files.append((course.root / "course.toml", "course.toml"))
    for base, prefix in ((checkout / "src" / "hfcourse", "src/hfcourse"), (course.root / "fixtures", "fixtures")):
        files += [(p, f"{prefix}/{p.relative_to(base).as_posix()}") for p in sorted(base.rglob("*"))
                  if p.is_file() and not _SKIP & set(p.parts) and p.suffix != ".pyc"]
    for s in sections:
        files += [(course.root / "solutions" / s.module, f"solutions/{s.module}"),
                  (course.root / "graders" / s.grader, f"graders/{s.grader}")]
    missing = [name for path, name in files if not path.is_file()]
    if missing:
        raise BundleError(f"missing from the course: {', '.join(missing)} (run `hfcourse validate --static`)")
    return files


def _script(name: str, **values: str) -> str:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def build_bundle(course: Course, out: Path, sections: list[Section] | None = None) -> list[str]:
    """Write the Gradescope autograder zip; returns the names it holds."""
    import hfcourse

    checkout = Path(hfcourse.__file__).resolve().parents[2]
    chosen = sections or [s for s in course.sections if s.ready]
    files = _course_files(course, chosen, checkout)
    args = " ".join(shlex.quote(s.id) for s in chosen) if sections else ""
    scripts = {"setup.sh": _script("gradescope_setup.sh"),
               "run_autograder": _script("gradescope_run_autograder", sections=f"--sections {args}" if args else "")}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in scripts.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o100755 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
        for path, name in files:
            archive.write(path, f"course/{name}")
    os.replace(tmp, out)
    return [*scripts, *(f"course/{name}" for _, name in files)]


def _candidates(submission: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(submission):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP and not d.startswith("."))
        found += [Path(dirpath) / f for f in sorted(filenames) if f.endswith(".py")]
    return found


def stage_submission(course: Course, submission: Path, staged: Path) -> dict[str, str]:
    """Copy the section modules of an upload into the exercises layout under ``staged``.

    A module is found as ``chN/sM_slug.py``, ``exercises/chN/sM_slug.py``, under any folder, or
    (when its file name is unique in the course) alone at any depth. Symbolic links stay links,
    so grading refuses them. Returns ``{section id: path in the upload}``."""
    submission, staged = Path(submission), Path(staged)
    staged.mkdir(parents=True, exist_ok=True)
    files = _candidates(submission)
    names = [Path(s.module).name for s in course.sections]
    taken: dict[str, str] = {}
    for s in course.sections:
        rel = [f for f in files if f.relative_to(submission).as_posix() == s.module]
        rel = rel or [f for f in files if f.relative_to(submission).as_posix().endswith("/" + s.module)]
        if not rel and names.count(Path(s.module).name) == 1:
            rel = [f for f in files if f.name == Path(s.module).name]
        if not rel:
            continue
        src = min(rel, key=lambda f: len(f.parts))
        dst = staged / s.module
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copyfile(src, dst)
        taken[s.id] = src.relative_to(submission).as_posix()
    return taken


def failure_results(log: str) -> str:
    """Gradescope results.json for a run that could not grade: score 0 and the error."""
    tail = sanitize(log.strip()[-3000:], 3000) or "no output"
    return json.dumps({
        "score": 0,
        "output": "The autograder could not grade this submission. Tell your instructor.\n"
                  "自动评分无法评阅此提交，请告知老师。\n\n" + tail,
        "tests": [],
    }, ensure_ascii=False, indent=1)


def _classroom_message(t) -> str:
    if t.status == "passed":
        return ""
    en, zh = CATEGORIES.get(t.category or "", ("", ""))
    body = [f"[{t.category}] {en} / {zh}"]
    if t.visibility == "visible" and t.message:
        body.append(t.message)
    body += [f"Hint: {t.hint}", f"提示：{t.hint_zh}"]
    return "\n".join(body)


def classroom_result(run: RunResult) -> dict:
    """The result GitHub Classroom's grading reporter reads (autograding-command-grader's format)."""
    tests = [{
        "name": f"{t.section} {t.name}",
        "status": "pass" if t.status == "passed" else "fail",
        "score": t.points,
        "message": _classroom_message(t),
        "test_code": f"hfcourse grade --sections {t.section}",
        "filename": "",
        "line_no": 0,
        "duration": round(t.duration * 1000),
    } for t in run.tests]
    status = "error" if not run.tests else "pass" if all(t["status"] == "pass" for t in tests) else "fail"
    return {"version": 1, "status": status, "max_score": run.max_score, "tests": tests}


def classroom_workflow() -> str:
    """The GitHub Actions workflow of a Classroom assignment."""
    return (TEMPLATES / "classroom.yml").read_text(encoding="utf-8")


def classroom_output(run: RunResult) -> str:
    """The ``result=<base64 JSON>`` line for ``$GITHUB_OUTPUT``."""
    data = json.dumps(classroom_result(run), ensure_ascii=False).encode()
    return "result=" + base64.b64encode(data).decode()


def _main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "stage":
        from hfcourse import manifest

        try:
            course = manifest.load()
        except (FileNotFoundError, manifest.ManifestError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        taken = stage_submission(course, Path(argv[1]), Path(argv[2]))
        for sid, rel in taken.items():
            print(f"{sid}: {rel}")
        if not taken:
            print("no section module found in the submission: upload files named like exercises/ch2/s2_….py")
        return 0
    if len(argv) == 3 and argv[0] == "fail":
        log = Path(argv[2]).read_text(encoding="utf-8", errors="replace") if Path(argv[2]).is_file() else ""
        Path(argv[1]).write_text(failure_results(log), encoding="utf-8")
        return 0
    print("usage: python -m hfcourse.gradescope_bundle stage SUBMISSION DIR | fail RESULTS LOG", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
