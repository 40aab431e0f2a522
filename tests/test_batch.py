"""``hfcourse grade-batch``: finding submissions, hashing, stopping gradings, and a real batch end to end."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from helpers import ROOT, interruptible, run_cli
from hfcourse import batch as batchmod
from hfcourse import mutants
from hfcourse.batch import BatchError, content_hash, default_jobs, find_submissions, run_batch
from hfcourse.report.csvbook import batch_gradebook

MODULE = "ch2/s2_behind_the_pipeline.py"


def _module(folder: Path, text: str = "x = 1\n") -> Path:
    (folder / "ch2").mkdir(parents=True, exist_ok=True)
    (folder / MODULE).write_text(text, encoding="utf-8")
    return folder


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


# -- fast ------------------------------------------------------------------------------

def test_submissions_are_directories_and_zips_with_safe_names(tmp_path):
    _module(tmp_path / "alice")
    (tmp_path / "bob.zip").write_bytes(b"not really a zip")
    (tmp_path / "Ünal_2").mkdir()
    (tmp_path / "carol.ipynb").write_text("{}")
    (tmp_path / "alice.zip").write_bytes(b"")
    (tmp_path / "bad name").mkdir()
    (tmp_path / "-rf").mkdir()
    (tmp_path / "new\nline").mkdir()
    (tmp_path / "roster.csv").write_text("x")
    (tmp_path / ".DS_Store").write_text("x")
    (tmp_path / "graded").mkdir()
    subs, ignored = find_submissions(tmp_path, exclude=tmp_path / "graded")
    by_name = {s.name: s for s in subs}
    assert sorted(ignored) == [".DS_Store", "roster.csv"]
    assert "graded" not in by_name
    assert by_name["alice"].problem is None and by_name["alice"].path == tmp_path / "alice"
    assert by_name["bob"].problem is None and by_name["bob"].path == tmp_path / "bob.zip"
    assert by_name["Ünal_2"].problem is None
    assert by_name["carol"].problem is None and by_name["carol"].path == tmp_path / "carol.ipynb"
    assert "both named alice" in by_name["alice.zip"].problem
    for name in ("bad name", "-rf", "new\\nline"):
        assert "not a safe folder name" in by_name[name].problem, name


def test_content_hash_follows_every_change(tmp_path):
    a = _module(tmp_path / "a", "def f():\n    return 1\n")
    b = _module(tmp_path / "b", "def f():\n    return 1\n")
    first = content_hash(a)
    assert content_hash(b) == first, "the same files hash the same wherever they are"
    (a / MODULE).write_text("def f():\n    return 2\n", encoding="utf-8")
    assert content_hash(a) != first
    (b / "notes.txt").write_text("", encoding="utf-8")
    assert content_hash(b) != first
    (b / "notes.txt").rename(b / "other.txt")
    renamed = content_hash(b)
    assert renamed not in (first, content_hash(a))
    zipped = tmp_path / "a.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(a / MODULE, MODULE)
    before = content_hash(zipped)
    with zipfile.ZipFile(zipped, "a") as archive:
        archive.writestr("extra.txt", "x")
    assert content_hash(zipped) != before


def test_default_jobs_respects_cores_and_memory(monkeypatch):
    cores = len(os.sched_getaffinity(0))
    monkeypatch.setattr(batchmod, "_available_memory", lambda: 64 * batchmod.BYTES_PER_JOB)
    assert default_jobs() == cores
    monkeypatch.setattr(batchmod, "_available_memory", lambda: batchmod.BYTES_PER_JOB + 1)
    assert default_jobs() == 1
    monkeypatch.setattr(batchmod, "_available_memory", lambda: 1024)
    assert default_jobs() == 1, "always at least one job"


def test_a_stuck_grading_and_its_sandboxed_children_are_killed():
    script = ("import signal, subprocess, sys, time\n"
              "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], start_new_session=True)\n"
              "print(child.pid, flush=True)\n"
              "time.sleep(300)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, start_new_session=True)
    child = int(proc.stdout.readline())
    assert _alive(child)
    started = time.monotonic()
    batchmod._stop(proc, grace=0.5)
    assert proc.returncode == -signal.SIGKILL
    for _ in range(50):
        if not _alive(child):
            break
        time.sleep(0.1)
    assert not _alive(child), "a worker in its own session must not outlive its grading"
    assert time.monotonic() - started < 10


def test_bad_batch_input_is_refused_with_the_fix(tmp_path):
    with pytest.raises(BatchError, match="no such folder"):
        run_batch(tmp_path / "missing")
    with pytest.raises(BatchError, match="holds no submissions"):
        run_batch(tmp_path)
    _module(tmp_path / "alice")
    with pytest.raises(BatchError, match="no section '9.9'"):
        run_batch(tmp_path, sections=["9.9"])
    proc = run_cli("grade-batch", str(tmp_path / "missing"), timeout=120)
    assert proc.returncode == 2 and "no such folder" in proc.stderr


def test_a_grading_over_its_time_is_stopped_and_recorded(tmp_path):
    subs = tmp_path / "subs"
    _module(subs / "alice")
    (subs / "bad name").mkdir()
    seen = []
    result = run_batch(subs, sections=["2.2"], timeout=1, progress=lambda event, sub, entry: seen.append((event, sub.name)))
    out = tmp_path / "subs-graded"
    data = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    by_name = {s["name"]: s for s in data["students"]}
    alice, bad = by_name["alice"], by_name["bad name"]
    assert alice["name"] == "alice" and alice["status"] == "error" and alice["error"].startswith("timed out after 1 s")
    assert alice["score"] is None and alice["max_score"] == 10 and alice["report"] is None
    assert bad["status"] == "error" and "not a safe folder name" in bad["error"]
    assert data["finished"] and data["sections"] == ["2.2"] and data["seed"] is None
    assert not (out / "students" / "alice" / "report.json").exists()
    assert "grade --target" in (out / "students" / "alice" / "log.txt").read_text(encoding="utf-8")
    assert not (out / "students" / "bad name").exists()
    assert ("error", "bad name") in seen and ("done", "alice") in seen
    assert result.entries["alice"] == alice


def test_ctrl_c_stops_the_gradings_and_keeps_the_batch_file(tmp_path):
    subs = tmp_path / "subs"
    _module(subs / "alice")
    log = tmp_path / "subs-graded" / "students" / "alice" / "log.txt"
    proc = subprocess.Popen([sys.executable, "-m", "hfcourse.cli", "grade-batch", str(subs), "--sections", "2.2",
                             "--no-report"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=interruptible)
    deadline = time.monotonic() + 120
    while not (log.exists() and batchmod._descendants(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    gradings = batchmod._descendants(proc.pid)
    assert gradings, "the grading subprocess never started"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    data = json.loads((tmp_path / "subs-graded" / "batch.json").read_text(encoding="utf-8"))
    assert data["finished"] is None
    assert data["students"][0]["status"] == "error" and "interrupted" in data["students"][0]["error"]
    time.sleep(0.5)
    assert not [pid for pid in gradings if _alive(pid)], "no grading process outlives the batch"


def test_batch_gradebook_leaves_ungraded_cells_empty():
    students = [{"name": "alice", "score": 7.5, "max_score": 10.0, "status": "graded"},
                {"name": "bob", "score": None, "max_score": 10.0, "status": "error"}]
    rows = list(csv.reader(batch_gradebook(students, ["2.2", "2.3"], {"alice": {"2.2": 5.5, "2.3": 2.0}}).splitlines()))
    assert rows == [["student", "score", "max_score", "2.2", "2.3", "status"],
                    ["alice", "7.5", "10", "5.5", "2", "graded"],
                    ["bob", "", "10", "", "", "error"]]


# -- slow: a real batch -------------------------------------------------------------------

def _make_class(root: Path, course) -> None:
    found = {m.name: m for m in mutants.load(ROOT / "tests" / "mutants" / "ch2.toml") if m.section == "2.2"}
    mutants.write_submission(found["softmax over the batch dimension"], course, root / "alice")
    source = mutants.write_submission(found["labels as class indices instead of names"], course, root.parent / "bob-src")
    with zipfile.ZipFile(root / "bob.zip", "w") as archive:
        archive.write(source / MODULE, f"exercises/{MODULE}")
    _module(root / "carol", "def preprocess(tokenizer, texts:\n    return {}\n")
    (root / "bad name").mkdir()
    (root / "notes.txt").write_text("not a submission", encoding="utf-8")


def _state(out: Path) -> tuple[dict, dict[str, dict], dict[str, float]]:
    data = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    book = {row["student"]: row for row in csv.DictReader((out / "gradebook.csv").open(encoding="utf-8"))}
    mtimes = {p.parent.name: p.stat().st_mtime_ns for p in (out / "students").glob("*/report.json")}
    return data, book, mtimes


def _check_against_reports(out: Path, data: dict, book: dict[str, dict]) -> None:
    assert set(data) == {"course", "started", "finished", "sections", "seed", "students", "course_faults"}
    assert list(book) == [s["name"] for s in data["students"]]
    for s in data["students"]:
        assert set(s) - {"course_faults"} == {"name", "submission", "status", "score", "max_score", "report", "error", "duration"}
        assert ("course_faults" in s) == (s["status"] == "graded")
        row = book[s["name"]]
        assert row["status"] == s["status"]
        if s["status"] != "graded":
            assert s["error"] and row["score"] == "" and row["2.2"] == ""
            continue
        assert s["report"] == f"students/{s['name']}/report.json" and s["error"] is None
        report = json.loads((out / s["report"]).read_text(encoding="utf-8"))
        section = next(x for x in report["sections"] if x["id"] == "2.2")
        assert s["score"] == report["score"] and s["max_score"] == report["max_score"] == 10
        assert float(row["score"]) == report["score"] and float(row["2.2"]) == section["score"]
        assert float(row["max_score"]) == report["max_score"]


@pytest.mark.slow
def test_grade_batch_end_to_end(tmp_path, course):
    subs, out = tmp_path / "class", tmp_path / "class-graded"
    subs.mkdir()
    _make_class(subs, course)
    first = run_cli("grade-batch", str(subs), "--sections", "2.2", "--jobs", "2", "--seed", "5")
    assert first.returncode == 0, first.stderr
    data, book, mtimes = _state(out)
    _check_against_reports(out, data, book)
    assert data["seed"] == 5 and data["sections"] == ["2.2"] and data["finished"]
    status = {s["name"]: s["status"] for s in data["students"]}
    assert status == {"alice": "graded", "bad name": "error", "bob": "graded", "carol": "graded"}
    scores = {s["name"]: s["score"] for s in data["students"]}
    assert scores["alice"] < 10 and scores["bob"] < 10, "the graders catch both mutants"
    carol = json.loads((out / "students" / "carol" / "report.json").read_text(encoding="utf-8"))
    assert carol["score"] == 0 and {t["category"] for t in carol["tests"]} == {"EXCEPTION"}
    assert carol["seed"] == 5
    assert "SyntaxError" in carol["tests"][0]["message"]
    assert "grade --target" in (out / "students" / "bob" / "log.txt").read_text(encoding="utf-8")
    assert "notes.txt" in first.stderr and "alice" in first.stdout

    again = run_cli("grade-batch", str(subs), "--sections", "2.2", "--seed", "5", "--no-report")
    assert again.returncode == 0, again.stderr
    data2, book2, mtimes2 = _state(out)
    assert mtimes2 == mtimes, "unchanged submissions are not graded again"
    assert book2 == book and [s["score"] for s in data2["students"]] == [s["score"] for s in data["students"]]
    assert "0 graded, 3 skipped" in again.stderr

    (subs / "carol" / MODULE).write_text((ROOT / "solutions" / MODULE).read_text(encoding="utf-8"), encoding="utf-8")
    third = run_cli("grade-batch", str(subs), "--sections", "2.2", "--seed", "5", "--no-report")
    assert third.returncode == 0, third.stderr
    data3, book3, mtimes3 = _state(out)
    _check_against_reports(out, data3, book3)
    assert {k: v for k, v in mtimes3.items() if k != "carol"} == {k: v for k, v in mtimes.items() if k != "carol"}
    assert mtimes3["carol"] != mtimes["carol"] and book3["carol"]["score"] == "10"

    forced = run_cli("grade-batch", str(subs), "--sections", "2.2", "--force", "--timeout", "1", "--no-report")
    assert forced.returncode == 0, forced.stderr
    data4, book4, mtimes4 = _state(out)
    _check_against_reports(out, data4, book4)
    assert mtimes4 == {}, "--force re-grades every student (here each one is stopped at its 1 s limit)"
    assert all(s["status"] == "error" for s in data4["students"])
    assert sum(s["error"].startswith("timed out after 1 s") for s in data4["students"]) == 3
