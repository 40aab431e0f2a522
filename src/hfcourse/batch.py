"""Grade a class: a folder with one submission per student (a directory, a .zip or one .ipynb notebook).

Each submission is graded by its own ``hfcourse grade`` subprocess (own sandbox and workers), at
most ``jobs`` at a time, with a wall-clock limit. The output directory holds ``batch.json``,
``gradebook.csv`` and ``students/<name>/{report.json,log.txt}``; both summary files are rewritten
atomically after every finished student. A student whose submission is unchanged since its last
successful grading (same content hash, sections and seed) is skipped unless ``force``."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hfcourse import manifest
from hfcourse.report.csvbook import batch_gradebook
from hfcourse.results import RunResult, write_atomic

__all__ = ["BatchError", "Submission", "find_submissions", "content_hash", "default_jobs", "default_timeout",
           "run_batch", "BatchRun", "BYTES_PER_JOB"]

BYTES_PER_JOB = 3 << 30
"""Memory one grading job may need (grader, student worker, reference worker)."""
_SAFE_NAME = re.compile(r"\w[\w.-]{0,99}")
_GRACE = 10.0
"""Seconds a stopped grading gets to write its partial report and close its workers."""


class BatchError(ValueError):
    """The batch cannot start (no such folder, no submissions, unknown sections)."""


@dataclass
class Submission:
    name: str
    path: Path
    problem: str | None = None
    """Why this entry cannot be graded (an unsafe or duplicate name)."""


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def find_submissions(root: Path, exclude: Path | None = None) -> tuple[list[Submission], list[str]]:
    """The submissions in ``root`` (directories, .zip and .ipynb files, by name) and the entries ignored."""
    found: list[Submission] = []
    ignored: list[str] = []
    seen: dict[str, str] = {}
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if exclude is not None and entry.resolve() == exclude.resolve():
            continue
        if entry.name.startswith("."):
            ignored.append(_printable(entry.name))
            continue
        if entry.is_dir():
            name = entry.name
        elif entry.is_file() and entry.suffix.lower() in (".zip", ".ipynb"):
            name = entry.name[: -len(entry.suffix)]
        else:
            ignored.append(_printable(entry.name))
            continue
        problem = None
        if not _SAFE_NAME.fullmatch(name):
            problem = (f"the name {_printable(name)!r} is not a safe folder name: rename the submission with letters, "
                       "digits, '_', '-' or '.' only (at most 100, starting with a letter or digit) / "
                       "提交名称不安全：请只用字母、数字、'_'、'-' 或 '.' 重新命名（最多100个字符，以字母或数字开头）")
            name = _printable(entry.name)
        elif name in seen:
            problem = (f"{entry.name} and {seen[name]} are both named {name}: keep one / "
                       f"{entry.name} 与 {seen[name]} 同名：只保留一个")
            name = entry.name
        seen.setdefault(name, entry.name)
        found.append(Submission(name=name, path=entry, problem=problem))
    return found, ignored


def content_hash(path: Path) -> str:
    """SHA-256 of a file's bytes (.zip, .ipynb), or of a directory's relative paths, link targets and file bytes."""
    digest = hashlib.sha256()
    if path.is_file():
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
            full = Path(dirpath, name)
            digest.update(full.relative_to(path).as_posix().encode("utf-8", "surrogateescape") + b"\0")
            if full.is_symlink():
                digest.update(b"link:" + os.readlink(full).encode("utf-8", "surrogateescape"))
            elif full.is_file():
                digest.update(full.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def _available_memory() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def default_jobs() -> int:
    """The cores this process may use, but no more jobs than available memory allows."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    memory = _available_memory()
    return max(1, min(cores, memory // BYTES_PER_JOB if memory else cores))


def default_timeout(n_sections: int) -> float:
    """Seconds one student's grading may take: start-up and fixtures, plus time per section."""
    return 300.0 + 120.0 * n_sections


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _stop(proc: subprocess.Popen, grace: float = _GRACE) -> None:
    """Interrupt a grading (it then closes its workers); kill it and every descendant if it lingers."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(grace)
        return
    except ProcessLookupError:
        proc.wait()
        return
    except subprocess.TimeoutExpired:
        pass
    for pid in [proc.pid, *_descendants(proc.pid)]:
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    proc.wait()


class BatchRun:
    """One batch run: the students' entries (as in batch.json) and the files written after each student."""

    def __init__(self, course: manifest.Course, root: Path, out: Path, sections: list[str], seed: int | None,
                 timeout: float):
        self.course, self.root, self.out, self.sections, self.seed, self.timeout = course, root, out, sections, seed, timeout
        self.max_score = sum(course.section(s).points for s in sections)
        self.started = _now()
        self.entries: dict[str, dict[str, Any]] = {}
        self.section_scores: dict[str, dict[str, float]] = {}
        self.running: set[subprocess.Popen] = set()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.ignored: list[str] = []
        """Entries of the submissions folder that are neither a directory nor a .zip or .ipynb file."""
        self.skipped: list[str] = []
        """Students not graded again: unchanged since their last grading."""

    def student_dir(self, name: str) -> Path:
        return self.out / "students" / name

    def stamp(self, digest: str) -> dict[str, Any]:
        return {"sha256": digest, "sections": self.sections, "seed": self.seed}

    def is_current(self, sub: Submission, digest: str) -> bool:
        folder = self.student_dir(sub.name)
        try:
            stamp = json.loads((folder / "stamp.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        wanted = self.stamp(digest)
        same_seed = self.seed is None or stamp.get("seed") == self.seed
        return (folder / "report.json").is_file() and stamp.get("sha256") == digest \
            and stamp.get("sections") == wanted["sections"] and same_seed

    def graded(self, sub: Submission, run: RunResult, duration: float) -> dict[str, Any]:
        self.section_scores[sub.name] = {s["id"]: float(s["score"]) for s in run.sections}
        entry = _entry(sub, "graded", run.score, run.max_score, f"students/{sub.name}/report.json", None, duration)
        entry["course_faults"] = [f"{t.section} {t.name}" for t in run.course_faults]
        return entry

    def course_faults(self) -> dict[str, list[str]]:
        """Students whose grading hit a fault of the course's own code (GRADER_ERROR tests, not
        scored): grade them again; the next run of the batch does so even when they are unchanged."""
        return {e["name"]: e["course_faults"] for e in self.entries.values() if e.get("course_faults")}

    def failed(self, sub: Submission, error: str, duration: float = 0.0) -> dict[str, Any]:
        return _entry(sub, "error", None, self.max_score, None, error, duration)

    def grade(self, sub: Submission, digest: str) -> dict[str, Any]:
        """Grade one submission in its own ``hfcourse grade`` process."""
        folder = self.student_dir(sub.name)
        folder.mkdir(parents=True, exist_ok=True)
        report, fresh, stamp = folder / "report.json", folder / "report.new.json", folder / "stamp.json"
        for stale in (report, fresh, stamp):
            stale.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "hfcourse.cli", "grade", "--target", str(sub.path), "--format", "json",
               "--out", str(fresh), "--sections", *self.sections]
        if self.seed is not None:
            cmd += ["--seed", str(self.seed)]
        env = {**os.environ, "HFCOURSE_ROOT": str(self.course.root)}
        start = time.monotonic()
        with (folder / "log.txt").open("w", encoding="utf-8") as log:
            log.write(f"$ {shlex.join(cmd)}\n")
            log.flush()
            with self.lock:
                if self.stopping.is_set():
                    return self.failed(sub, _INTERRUPTED)
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                        cwd=self.course.root, env=env, start_new_session=True)
                self.running.add(proc)
            try:
                proc.wait(self.timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                _stop(proc)
                timed_out = True
            finally:
                with self.lock:
                    self.running.discard(proc)
        duration = time.monotonic() - start
        if timed_out:
            fresh.unlink(missing_ok=True)
            return self.failed(sub, f"timed out after {self.timeout:g} s: the grading was stopped / "
                                    f"超时（{self.timeout:g} 秒）：评分已被终止", duration)
        if self.stopping.is_set():
            fresh.unlink(missing_ok=True)
            return self.failed(sub, _INTERRUPTED, duration)
        try:
            run = RunResult.from_json(fresh.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError) as exc:
            fresh.unlink(missing_ok=True)
            why = _last_line(folder / "log.txt") or f"{type(exc).__name__}: {exc}"
            return self.failed(sub, f"grading failed (exit status {proc.returncode}): {why} / 评分失败，见 log.txt",
                               duration)
        if run.interrupted:
            fresh.unlink(missing_ok=True)
            return self.failed(sub, "the grading was interrupted before it finished: see log.txt / "
                                    "评分未完成即被中断：见 log.txt", duration)
        os.replace(fresh, report)
        write_atomic(stamp, json.dumps(self.stamp(digest)))
        return self.graded(sub, run, duration)

    def stop_all(self) -> None:
        with self.lock:
            self.stopping.set()
            running = list(self.running)
        for proc in running:
            _stop(proc, grace=3.0)

    def write(self, finished: bool) -> None:
        students = list(self.entries.values())
        data = {"course": self.course.title, "started": self.started, "finished": _now() if finished else None,
                "sections": self.sections, "seed": self.seed, "students": students,
                "course_faults": self.course_faults()}
        write_atomic(self.out / "batch.json", json.dumps(data, ensure_ascii=False, indent=1))
        write_atomic(self.out / "gradebook.csv", batch_gradebook(students, self.sections, self.section_scores))


_INTERRUPTED = "not graded: the batch was interrupted / 未评分：批量评分被中断"


def _entry(sub: Submission, status: str, score: float | None, max_score: float, report: str | None,
           error: str | None, duration: float) -> dict[str, Any]:
    return {"name": sub.name, "submission": _printable(str(sub.path)), "status": status, "score": score,
            "max_score": max_score, "report": report, "error": error, "duration": round(duration, 2)}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _last_line(log: Path) -> str:
    try:
        lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:500] if len(lines) > 1 else ""


def _previous(out: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((out / "batch.json").read_text(encoding="utf-8"))
        return {s["name"]: s for s in data.get("students", []) if isinstance(s, dict) and "name" in s}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def run_batch(submissions: Path | str, *, out: Path | str | None = None, sections: list[str] | None = None,
              jobs: int | None = None, force: bool = False, seed: int | None = None, timeout: float | None = None,
              progress: Any = None) -> BatchRun:
    """Grade every submission in ``submissions``; ``progress(event, sub, entry)`` hears of each step
    (events: ``queued``, ``skipped`` when unchanged, ``error`` when it cannot be graded, ``done``)."""
    root = Path(submissions).expanduser().resolve()
    if not root.is_dir():
        raise BatchError(f"{submissions}: no such folder. Give a folder holding one directory, .zip or .ipynb per student")
    course = manifest.load()
    try:
        chosen = [s.id for s in course.select(sections)]
    except KeyError as exc:
        raise BatchError(str(exc.args[0])) from None
    out_dir = Path(out).expanduser().resolve() if out else root.parent / f"{root.name}-graded"
    subs, ignored = find_submissions(root, exclude=out_dir)
    if not subs:
        raise BatchError(f"{root} holds no submissions: put one directory, .zip or .ipynb file per student in it")
    batch = BatchRun(course, root, out_dir, chosen, seed, timeout or default_timeout(len(chosen)))
    batch.ignored = ignored
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = _previous(out_dir)
    notify = progress or (lambda *a: None)
    queue: list[tuple[Submission, str]] = []
    for sub in subs:
        if sub.problem:
            batch.entries[sub.name] = batch.failed(sub, sub.problem)
            notify("error", sub, batch.entries[sub.name])
            continue
        digest = content_hash(sub.path)
        if not force and batch.is_current(sub, digest):
            try:
                run = RunResult.from_json((batch.student_dir(sub.name) / "report.json").read_text(encoding="utf-8"))
            except (OSError, ValueError, TypeError):
                run = None
            if run is not None and not run.course_faults:  # a grader fault last time: grade again
                batch.entries[sub.name] = batch.graded(sub, run, float(previous.get(sub.name, {}).get("duration") or 0.0))
                batch.skipped.append(sub.name)
                notify("skipped", sub, batch.entries[sub.name])
                continue
        queue.append((sub, digest))
        batch.entries[sub.name] = batch.failed(sub, "not graded yet / 尚未评分")
        notify("queued", sub, batch.entries[sub.name])
    batch.write(finished=not queue)
    if not queue:
        return batch
    with ThreadPoolExecutor(max_workers=max(1, min(jobs or default_jobs(), len(queue)))) as pool:
        pending: dict[Future, Submission] = {}
        for sub, digest in queue:
            pending[pool.submit(batch.grade, sub, digest)] = sub
        try:
            while pending:
                done, _ = wait(list(pending), timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    sub = pending.pop(future)
                    try:
                        batch.entries[sub.name] = future.result()
                    except Exception as exc:  # a fault of this student's grading only: record it, go on
                        batch.entries[sub.name] = batch.failed(sub, f"grading failed / 评分失败: {type(exc).__name__}: {exc}")
                    batch.write(finished=not pending)
                    notify("done", sub, batch.entries[sub.name])
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            batch.stop_all()
            for future, sub in pending.items():
                batch.entries[sub.name] = batch.failed(sub, _INTERRUPTED)
            batch.write(finished=False)
            raise
    return batch
