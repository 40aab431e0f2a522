"""Hostile submissions (threat model X01-X36) against the adversarial test course.

Each case is checked six ways: (i) the targeted tests score 0 with the stated category;
(ii) every other test scores as for the honest solution; (iii) the grader exits normally
with a valid report; (iv) a random canary planted in the hidden tests and their expected
values appears in no output, log or report; (v) no sandbox process survives and no file
appears outside the scratch directories; (vi) wall time is bounded.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import tomllib
import unicodedata
from pathlib import Path

import pytest

from hfcourse.report import gradescope_json
from hfcourse.report.exercism import exercism_json
from hfcourse.report.junit import junit_xml
from hfcourse.report.github import annotations, step_summary
from hfcourse.results import RunResult
from hfcourse.sandbox.levels import UID_BASE, UID_COUNT, plan, uid_last_claimant
from helpers import interruptible

HERE = Path(__file__).resolve().parent
SUBMISSIONS = HERE / "submissions"
CASES = tomllib.loads((HERE / "cases.toml").read_text())
TESTS = ["test_add", "test_scale", "test_label", "test_total", "test_total_throughput"]
SECTION_TESTS = {"9.1": TESTS, "9.2": ["test_save", "test_log_line"]}
"""The tests of each section of the adversarial course; a case grades one (``section``, default 9.1)."""
VICTIM_FILE, VICTIM_DIR = Path("/tmp/hfcourse-victim.txt"), Path("/tmp/hfcourse-victim-dir")
"""Root's own file and folder outside every scratch, which submissions aim links at."""
WALL_LIMIT = 150
WATCHED = [Path("/tmp/PWNED"), Path("/tmp/hfcourse-owned.txt"), Path("/tmp/hfcourse-zip-slip.txt"),
           Path("/tmp/results.json"), Path("/tmp/report.json"), Path("/tmp/filler.bin")]

pytestmark = pytest.mark.slow


@pytest.fixture
def course(tmp_path):
    """A fresh copy of the adversarial course with a new canary in its hidden grader."""
    root = tmp_path / "course"
    shutil.copytree(HERE / "course", root)
    canary = f"hfc-canary-{secrets.token_hex(12)}"
    grader = root / "graders" / "ch9" / "test_s1_arith.py"
    grader.write_text(grader.read_text().replace("CANARY_PLACEHOLDER", canary))
    return root, canary


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if "__pycache__" in path.parts:
            continue
        h.update(str(path.relative_to(root)).encode())
        if path.is_file() and not path.is_symlink():
            h.update(path.read_bytes())
    return h.hexdigest()


def _sandbox_processes(grader_pid: int) -> list[str]:
    """Live processes under a sandbox uid that the grading process ``grader_pid`` claimed last
    (holding it still, or released, or dead): a uid is not claimed again while a process runs as it."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                uid = entry.stat().st_uid
                if not UID_BASE <= uid < UID_BASE + UID_COUNT:
                    continue
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z" and uid_last_claimant(uid) == grader_pid:
                    found.append(f"{entry.name} uid={uid} {(entry / 'cmdline').read_bytes()[:80]!r}")
            except OSError:
                pass
    return found


def _descendants(pid: int) -> list[int]:
    """Live processes below ``pid`` (children, grandchildren, ...)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        here = frontier.pop()
        children = [p for p, parent in parents.items() if parent == here]
        found += children
        frontier += children
    return found


def _grade(root: Path, target: Path, out: Path, sections: str = "9.1") -> tuple[subprocess.CompletedProcess, float]:
    env = {**os.environ, "HFCOURSE_ROOT": str(root)}
    start = time.monotonic()
    with subprocess.Popen([sys.executable, "-m", "hfcourse.cli", "grade", "--target", str(target), "--sections",
                           *sections.split(","), "--format", "json", "--out", str(out)], cwd=root, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as popen:
        stdout, stderr = popen.communicate(timeout=WALL_LIMIT + 60)
    done = subprocess.CompletedProcess(popen.args, popen.returncode, stdout, stderr)
    done.pid = popen.pid
    return done, time.monotonic() - start


def _unsafe(text: str) -> list[str]:
    """Control, format (bidi overrides, zero-width), surrogate and line-separator characters in
    ``text``; newlines and tabs are fine."""
    return sorted({f"U+{ord(c):04X}" for c in text
                   if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") and c not in "\n\t"})


def _host_paths() -> list[str]:
    """Where the trees the jail lets a worker read lie on this machine (the Python installation,
    the hfcourse package, the fixture cache)."""
    import hfcourse
    from hfcourse.paths import cache_dir

    return [sys.prefix, os.path.realpath(sys.base_prefix), str(Path(hfcourse.__file__).resolve().parents[1]),
            str(cache_dir() / "fixtures")]


def _needs(case: dict) -> list[str]:
    """The defences a case needs (``needs``; ``needs_l1 = true`` is ``needs = ["L1"]``)."""
    return [*(["L1"] if case.get("needs_l1") else []), *case.get("needs", [])]


def _by_name(report: dict) -> dict[str, dict]:
    return {t["name"]: t for t in report["tests"]}


def _plant_victims() -> None:
    """A root-owned file and folder outside the scratch, as submissions expect to find them."""
    shutil.rmtree(VICTIM_DIR, ignore_errors=True)
    VICTIM_FILE.unlink(missing_ok=True)
    VICTIM_FILE.write_text("victim")
    VICTIM_FILE.chmod(0o600)
    VICTIM_DIR.mkdir(mode=0o700)
    (VICTIM_DIR / "secret.txt").write_text("secret")


def _victims_untouched() -> list[str]:
    """What changed in the victims (owner, mode, content, entries): nothing, or a list of it."""
    changed = []
    for path, mode in ((VICTIM_FILE, 0o600), (VICTIM_DIR, 0o700), (VICTIM_DIR / "secret.txt", None)):
        info = path.lstat()
        if info.st_uid != os.getuid() or (mode is not None and info.st_mode & 0o7777 != mode):
            changed.append(f"{path}: owner {info.st_uid}, mode {oct(info.st_mode & 0o7777)}")
    if VICTIM_FILE.read_text() != "victim":
        changed.append(f"{VICTIM_FILE}: content changed")
    if sorted(p.name for p in VICTIM_DIR.iterdir()) != ["secret.txt"]:
        changed.append(f"{VICTIM_DIR}: now holds {sorted(p.name for p in VICTIM_DIR.iterdir())}")
    return changed


def test_honest_solution_scores_full_marks(course, tmp_path):
    root, canary = course
    proc, _ = _grade(root, root / "solutions", tmp_path / "report.json", ",".join(SECTION_TESTS))
    report = json.loads((tmp_path / "report.json").read_text())
    assert proc.returncode == 0, proc.stderr[-2000:]
    every = [t for tests in SECTION_TESTS.values() for t in tests]
    assert sorted(t["name"] for t in report["tests"]) == sorted(every)
    assert report["score"] == report["max_score"] == len(every), [(t["name"], t["message"]) for t in report["tests"]]
    assert report["sandbox"]["level"] == plan().level


@pytest.mark.parametrize("name", list(CASES))
def test_adversarial_submission(name, course, tmp_path):
    case = CASES[name]
    for defence in _needs(case):
        if defence not in plan().active:
            pytest.skip(f"needs {defence}: {plan().inactive.get(defence, 'not active')}")
    root, canary = course
    submission = SUBMISSIONS / name
    before_course, before_submission = _tree_digest(root), _tree_digest(submission) if submission.is_dir() else None
    for path in WATCHED:
        path.unlink(missing_ok=True)
    _plant_victims()
    out = tmp_path / "report.json"
    section = case.get("section", "9.1")
    TESTS = SECTION_TESTS[section]

    proc, seconds = _grade(root, submission, out, section)

    # (iii) normal exit and a valid, complete report
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    run = RunResult.from_json(out.read_text())
    tests = _by_name(report)
    assert list(tests) == TESTS
    # (i) targeted tests: 0 points, stated category; (ii) the rest as for the honest solution
    targets = case["targets"]
    for test in TESTS:
        want = targets.get("*", targets.get(test))
        got = tests[test]
        if want is None:
            assert got["status"] == "passed", (test, got["category"], got["message"])
        else:
            allowed = want if isinstance(want, list) else [want]
            assert got["points"] == 0 and got["category"] in allowed, (test, got["category"], got["message"])
            if "message" in case:
                assert case["message"] in got["message"], got["message"]
    # (iv) the canary is nowhere
    gradescope = gradescope_json(run)
    for where, text in (("stdout", proc.stdout), ("stderr", proc.stderr), ("report", out.read_text()),
                        ("gradescope", gradescope)):
        assert canary not in text, f"the canary leaked into {where}"
    for text in (proc.stdout, out.read_text(), gradescope):
        assert "\x1b" not in text and "\x07" not in text, "control characters reached the output"
    student_text = {f"{t['name']}.{k}": t[k] for t in report["tests"] for k in ("message", "message_zh", "likely", "output")}
    rendered = {"stdout": proc.stdout, "gradescope": gradescope, "junit": junit_xml(run), "exercism": exercism_json(run),
                "annotations": "\n".join(annotations(run)), "summary": step_summary(run), **student_text}
    for where, text in rendered.items():
        assert _unsafe(text) == [], f"control or format characters reached {where}: {_unsafe(text)}"
    if case.get("no_host_paths"):
        for where, text in student_text.items():
            assert not [p for p in _host_paths() if p in text], f"a host path reached {where}: {text[:300]}"
    # (v) nothing survives, nothing was written outside scratch
    if plan().jail:
        deadline = time.monotonic() + 10
        while _sandbox_processes(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _sandbox_processes(proc.pid) == []
    assert _tree_digest(root) == before_course, "the course directory changed"
    if before_submission is not None:
        assert _tree_digest(submission) == before_submission, "the submission directory changed"
    assert [p for p in WATCHED if p.exists()] == []
    assert _victims_untouched() == [], "a file outside the scratch was changed"
    # (vi) bounded wall time
    assert seconds < WALL_LIMIT


def test_interrupted_grading_still_writes_a_valid_report(course, tmp_path):
    root, _ = course
    out = tmp_path / "report.json"
    env = {**os.environ, "HFCOURSE_ROOT": str(root)}
    proc = subprocess.Popen([sys.executable, "-m", "hfcourse.cli", "grade", "--target", str(SUBMISSIONS / "x14_hang"),
                             "--sections", "9.1", "--format", "json", "--out", str(out)], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible)
    # interrupt while a hanging call is in progress: once the student's worker runs (at L0: once the
    # grading has three descendants, zygote, reference and student worker), plus a moment
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        if _sandbox_processes(proc.pid) if plan().jail else len(_descendants(proc.pid)) >= 3:
            break
        time.sleep(0.2)
    time.sleep(2)
    assert proc.poll() is None, "the grading ended before it could be interrupted"
    proc.send_signal(2)
    proc.communicate(timeout=60)
    report = json.loads(out.read_text())
    assert report["interrupted"] is True
    assert [t["name"] for t in report["tests"]] == TESTS
    assert all(t["points"] == 0 for t in report["tests"] if t["status"] != "passed")


def test_a_saved_directory_that_is_a_link_is_refused_on_a_real_section(tmp_path):
    """2.4's save_tokenizer saves nothing: it links the directory it was given to the fixture
    tokenizer's folder (readable in the sandbox) and returns that folder's names. A grader that
    lists and loads the directory through the link passes it; the link must be refused."""
    import re

    from hfcourse.paths import course_root

    real = course_root()
    solution = (real / "solutions" / "ch2" / "s4_tokenizers.py").read_text()
    linked = ('def save_tokenizer(tokenizer, directory):\n'
              '    import os\n'
              '    os.symlink(tokenizer.name_or_path, directory)\n'
              '    return sorted(os.listdir(tokenizer.name_or_path))\n\n\n')
    module, count = re.subn(r"def save_tokenizer\(.*?(?=\ndef |\Z)", linked, solution, count=1, flags=re.S)
    assert count == 1
    submission = tmp_path / "submission"
    (submission / "ch2").mkdir(parents=True)
    (submission / "ch2" / "s4_tokenizers.py").write_text(module)
    out = tmp_path / "report.json"
    env = {**os.environ, "HFCOURSE_ROOT": str(real)}
    done = subprocess.run([sys.executable, "-m", "hfcourse.cli", "grade", "--target", str(submission), "--sections", "2.4",
                           "--format", "json", "--out", str(out)], cwd=real, env=env, capture_output=True, text=True,
                          timeout=WALL_LIMIT + 60)
    assert done.returncode == 0, done.stderr[-2000:]
    tests = _by_name(json.loads(out.read_text()))
    saved = tests.pop("test_save_tokenizer")
    assert saved["points"] == 0 and saved["category"] == "REJECTED" and "is a link" in saved["message"], saved
    assert all(t["status"] == "passed" for t in tests.values()), [(n, t["category"]) for n, t in tests.items()]
