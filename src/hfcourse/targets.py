"""What is graded (solutions, exercises, or a submission directory) and the proxies
grader tests call it through. Student code only ever runs in worker processes."""

from __future__ import annotations

import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

from hfcourse.manifest import Course, Section
from hfcourse.sandbox.client import StudentError, WorkerProcess
from hfcourse.sandbox.codec import ScratchPath, Service
from hfcourse.sandbox.limits import Limits

__all__ = ["Source", "Target", "WorkerPool", "IngestError"]

MAX_MODULE_BYTES = 1 << 20


class IngestError(ValueError):
    """A submission that cannot be graded at all (not a directory, unreadable)."""


class Source:
    """Where the graded modules come from; submissions are copied into a private dir."""

    def __init__(self, course: Course, target: str):
        self.course = course
        self.target = target
        self.problems: dict[str, str] = {}
        self._staged: Path | None = None
        if target in ("solutions", "exercises"):
            self.base = course.root / target
        else:
            self.base = self._stage(Path(target))

    def _stage(self, submitted: Path) -> Path:
        if not submitted.is_dir():
            raise IngestError(f"--target {submitted}: not a directory. Give solutions, exercises, "
                              "or a directory laid out like exercises/ (ch2/s2_behind_the_pipeline.py, …)")
        self._staged = Path(tempfile.mkdtemp(prefix="hfcourse-submission-"))
        for sec in self.course.sections:
            src = submitted / sec.module
            if not src.exists() and not src.is_symlink():
                continue
            info = src.lstat()
            if not stat.S_ISREG(info.st_mode):
                self.problems[sec.id] = f"{sec.module} is not a regular file (a symlink or a device): submit the file itself"
            elif info.st_size > MAX_MODULE_BYTES:
                self.problems[sec.id] = f"{sec.module} is {info.st_size} bytes, over the {MAX_MODULE_BYTES} byte limit"
            else:
                dst = self._staged / sec.module
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst, follow_symlinks=False)
        return self._staged

    def module(self, section: Section) -> Path | StudentError:
        """The module file to load for ``section``, or why there is none."""
        if section.id in self.problems:
            return StudentError("BAD_OUTPUT", self.problems[section.id])
        path = self.base / section.module
        if not path.is_file():
            return StudentError("NOT_ATTEMPTED", f"{section.module} is missing from the {self.target} directory")
        return path

    def cleanup(self) -> None:
        if self._staged is not None:
            shutil.rmtree(self._staged, ignore_errors=True)


class WorkerPool:
    """Hands out started workers and keeps one spare booting, so imports overlap with grading."""

    def __init__(self, limits: Limits = Limits(), expected: int = 0, *, jail: bool = False,
                 readable: tuple[str, ...] = ()):
        self.limits = limits
        self.jail = jail
        self.readable = readable
        self.expected = expected
        """How many more workers will be asked for; a spare boots only while some are."""
        self._spare: WorkerProcess | None = None
        self._live: list[WorkerProcess] = []

    def acquire(self, label: str) -> WorkerProcess:
        worker = self._spare or self._new(label)
        self.expected = max(0, self.expected - 1)
        self._spare = self._new("spare") if self.expected > 0 else None
        worker.label = label
        self._live.append(worker)
        return worker

    def _new(self, label: str) -> WorkerProcess:
        return WorkerProcess(label, limits=self.limits, jail=self.jail, readable=self.readable)

    def release(self, worker: WorkerProcess) -> None:
        worker.close()
        if worker in self._live:
            self._live.remove(worker)

    def close(self) -> None:
        for w in [*self._live, *([self._spare] if self._spare else [])]:
            w.close()
        self._live.clear()
        self._spare = None


class Target:
    """Calls a section's functions in a worker: ``student.predict_proba(model, tok, texts)``."""

    def __init__(self, kind: str, section: Section, worker: WorkerProcess, module: Path | StudentError):
        self.kind = kind
        self.section = section
        self.worker = worker
        self.outputs: list[str] = []
        if isinstance(module, StudentError):
            worker.load_error = module
        else:
            worker.load(module, f"{kind}_{section.marker}", section.timeout)

    def call(self, fn: str, *args: Any, kwargs: dict | None = None, timeout: float | None = None,
             probe: str | None = None, repeat: int = 1, discard: bool = False) -> Any:
        return self.timed(fn, *args, kwargs=kwargs, timeout=timeout, probe=probe, repeat=repeat, discard=discard)[0]

    def timed(self, fn: str, *args: Any, kwargs: dict | None = None, timeout: float | None = None,
              probe: str | None = None, repeat: int = 1, discard: bool = False) -> tuple[Any, float]:
        """The value and the round-trip seconds measured on the grader's side."""
        try:
            reply = self.worker.call(fn, args, kwargs or {}, timeout=timeout or self.section.timeout,
                                     repeat=repeat, probe=probe, discard=discard)
        except StudentError as err:
            if err.output:
                self.outputs.append(err.output)
            raise
        if reply.output:
            self.outputs.append(reply.output)
        return reply.value, reply.seconds

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, kwargs=kwargs)

    def scratch(self, name: str) -> ScratchPath:
        """A fresh path inside the worker's scratch dir, to hand to a function that writes files."""
        (self.worker.scratch / name).parent.mkdir(parents=True, exist_ok=True)
        return ScratchPath(name)

    def service(self, name: str, state: str | None = None, **options: Any) -> Service:
        """A stand-in server started inside this worker (``hfcourse.services.<name>.start``);
        the function under test receives its URL, the grader reads ``local(service.state)``."""
        state = state or f"service-{name}"
        (self.worker.scratch / state).mkdir(parents=True, exist_ok=True)
        return Service(name, state, tuple(sorted(options.items())))

    def local(self, path: ScratchPath | Service | Path) -> Path:
        """Where the grader reads a scratch path."""
        rel = path.relative if isinstance(path, ScratchPath) else path.state if isinstance(path, Service) else path
        return self.worker.scratch / rel
