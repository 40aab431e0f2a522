"""What is graded (solutions, exercises, or a submission directory) and the proxies
grader tests call it through. Student code only ever runs in worker processes."""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from hfcourse.manifest import Course, Section
from hfcourse.paths import scratch_dir
from hfcourse.sandbox.client import StudentError, WorkerProcess
from hfcourse.sandbox import disk
from hfcourse.sandbox.codec import Ref, ScratchPath, Service
from hfcourse.sandbox.launch import NO_LOOPBACK
from hfcourse.sandbox.limits import Limits
from hfcourse.sandbox.zygote import Zygote

__all__ = ["Source", "Target", "WorkerPool", "IngestError"]

MAX_MODULE_BYTES = 1 << 20
MAX_ARCHIVE_ENTRIES = 10_000


class IngestError(ValueError):
    """A submission that cannot be graded at all (not a directory, unreadable)."""


class Source:
    """Where the graded modules come from. A submission (directory, .zip, or one notebook) is copied
    into a private directory: expected files only, regular files only, within size limits. A section
    may be submitted as its module (``ch2/s2_behind_the_pipeline.py``) or as its notebook
    (``ch2/s2_behind_the_pipeline.ipynb``), whose tagged exercise cells become the module."""

    def __init__(self, course: Course, target: str):
        self.course = course
        self.target = target
        self.problems: dict[str, str] = {}
        self.refused: str | None = None
        """Why the whole submission was refused (every section then scores 0 as REJECTED)."""
        self._staged: Path | None = None
        if target in ("solutions", "exercises"):
            self.base = course.root / target
        else:
            try:
                self.base = self._stage(Path(target))
            except (IngestError, zipfile.BadZipFile, OSError) as exc:
                self.refused = str(exc)
                self.base = self._staged or scratch_dir("submission")

    def _stage(self, submitted: Path) -> Path:
        self._staged = scratch_dir("submission")
        os.chmod(self._staged, 0o755)
        if submitted.suffix == ".ipynb" and submitted.is_file() and not submitted.is_symlink():
            self._stage_notebook(submitted)
        elif submitted.is_file() and zipfile.is_zipfile(submitted):
            self._stage_zip(submitted)
        elif submitted.is_dir():
            self._stage_dir(submitted)
        else:
            raise IngestError(f"--target {submitted}: not a directory, a .zip or an .ipynb file. Give solutions, "
                              "exercises, or a submission laid out like exercises/ (ch2/s2_behind_the_pipeline.py "
                              "or .ipynb, …)")
        return self._staged

    def _wanted(self) -> dict[str, tuple[Section, bool]]:
        """Accepted paths in a submission: each section's module and notebook (True: a notebook)."""
        from hfcourse.notebooks import notebook_path

        wanted = {s.module: (s, False) for s in self.course.sections}
        wanted.update({notebook_path(s): (s, True) for s in self.course.sections})
        return wanted

    def _stage_notebook(self, submitted: Path) -> None:
        from hfcourse.notebooks import MAX_NOTEBOOK_BYTES, NotebookError, section_of

        if submitted.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise IngestError(f"{submitted.name} is {submitted.stat().st_size} bytes, over the {MAX_NOTEBOOK_BYTES} "
                              "byte limit for notebooks: clear the outputs and save again")
        data = submitted.read_bytes()
        try:
            sec = section_of(data, self.course, submitted.name)
        except NotebookError as exc:
            raise IngestError(str(exc)) from None
        self._accept(sec, True, submitted.name, data)

    def _stage_dir(self, submitted: Path) -> None:
        seen: dict[str, str] = {}
        for name, (sec, is_notebook) in self._wanted().items():
            src = submitted / name
            if not src.exists() and not src.is_symlink():
                continue
            if sec.id in seen:
                self.problems[sec.id] = f"both {seen[sec.id]} and {name} were submitted: submit one of them"
                continue
            seen[sec.id] = name
            info = src.lstat()
            inside = os.path.realpath(src) == os.path.join(os.path.realpath(submitted), name)
            limit = self._limit(is_notebook)
            if not stat.S_ISREG(info.st_mode) or not inside:
                self.problems[sec.id] = f"{name} is not a regular file (a symlink or a device): submit the file itself"
            elif info.st_size > limit:
                self.problems[sec.id] = f"{name} is {info.st_size} bytes, over the {limit} byte limit"
            else:
                self._accept(sec, is_notebook, name, src.read_bytes())

    def _stage_zip(self, submitted: Path) -> None:
        wanted = self._wanted()
        seen: dict[str, str] = {}
        with zipfile.ZipFile(submitted) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ARCHIVE_ENTRIES:
                raise IngestError(f"{submitted.name} has {len(entries)} entries, over the limit of {MAX_ARCHIVE_ENTRIES}")
            prefix = _common_prefix([e.filename for e in entries if not e.is_dir()], wanted)
            for entry in entries:
                name = entry.filename[len(prefix):] if entry.filename.startswith(prefix) else entry.filename
                if name not in wanted:
                    continue
                sec, is_notebook = wanted[name]
                if seen.get(sec.id, name) != name:
                    self.problems[sec.id] = f"both {seen[sec.id]} and {name} were submitted: submit one of them"
                    continue
                seen[sec.id] = name
                limit = self._limit(is_notebook)
                kind = (entry.external_attr >> 16) & 0o170000
                if kind not in (0, stat.S_IFREG) or ".." in PurePosixPath(entry.filename).parts or entry.filename.startswith("/"):
                    self.problems[sec.id] = f"{entry.filename}: not a regular file entry (a symlink or an unsafe path)"
                elif entry.file_size > limit:
                    self.problems[sec.id] = f"{entry.filename} is {entry.file_size} bytes, over the {limit} byte limit"
                else:
                    with archive.open(entry) as fh:
                        data = fh.read(limit + 1)
                    if len(data) > limit:
                        self.problems[sec.id] = f"{entry.filename} unpacks to more than {limit} bytes"
                    else:
                        self._accept(sec, is_notebook, entry.filename, data)

    @staticmethod
    def _limit(is_notebook: bool) -> int:
        if is_notebook:
            from hfcourse.notebooks import MAX_NOTEBOOK_BYTES

            return MAX_NOTEBOOK_BYTES
        return MAX_MODULE_BYTES

    def _accept(self, sec: Section, is_notebook: bool, name: str, data: bytes) -> None:
        """Stage one submitted file as the section's module (a notebook's exercise cells are extracted)."""
        if is_notebook:
            from hfcourse.notebooks import NotebookError, extract

            try:
                data = extract(data, sec, name).encode("utf-8")
            except NotebookError as exc:
                self.problems[sec.id] = str(exc)
                return
            if len(data) > MAX_MODULE_BYTES:
                self.problems[sec.id] = f"the code cells of {name} are {len(data)} bytes, over the {MAX_MODULE_BYTES} byte limit"
                return
        self._write(sec.module, data)

    def _write(self, module: str, data: bytes) -> None:
        dst = self._staged / module
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(dst.parent, 0o755)
        dst.write_bytes(data)
        os.chmod(dst, 0o644)

    def module(self, section: Section) -> Path | StudentError:
        """The module file to load for ``section``, or why there is none."""
        if self.refused is not None:
            return StudentError("REJECTED", f"the submission was refused: {self.refused}")
        if section.id in self.problems:
            return StudentError("REJECTED", self.problems[section.id])
        path = self.base / section.module
        if not path.is_file():
            return StudentError("NOT_ATTEMPTED", f"{section.module} is missing from the {self.target} directory")
        return path

    def cleanup(self) -> None:
        if self._staged is not None:
            shutil.rmtree(self._staged, ignore_errors=True)


def _common_prefix(names: list[str], wanted: dict) -> str:
    """An archive's top folder (``exercises/`` or ``submission/``) when its files sit under one."""
    for name in names:
        for module in wanted:
            if name.endswith("/" + module):
                return name[: -len(module)]
    return ""


class WorkerPool:
    """Hands out started workers and keeps one spare booting, so imports overlap with grading."""

    def __init__(self, limits: Limits = Limits(), expected: int = 0, *, jail: bool = False,
                 readable: tuple[str, ...] = (), preload: tuple[str, ...] = ("torch", "transformers"),
                 zygote: Zygote | None = None, scratch_mb: int | None = None):
        self.limits = limits
        self.scratch_mb = scratch_mb
        """Each worker's scratch is a tmpfs of this size (None: not capped, see sandbox.disk)."""
        self.zygote = zygote
        self.preload = preload
        self.jail = jail
        self.readable = readable
        self.expected = expected
        """How many more workers will be asked for; a spare boots only while some are."""
        self._spare: WorkerProcess | None = None
        self._live: list[WorkerProcess] = []

    def acquire(self, label: str, scratch_mb: int | None = None) -> WorkerProcess:
        """A started worker; its capped scratch resized to ``scratch_mb`` when given."""
        worker = self._spare or self._new(label)
        if scratch_mb is not None and worker.scratch_bytes is not None and worker.scratch_bytes != scratch_mb << 20:
            disk.resize(worker.scratch, scratch_mb << 20)
            worker.scratch_bytes = scratch_mb << 20
        self.expected = max(0, self.expected - 1)
        # A forked worker starts in milliseconds: a spare only pays where workers are new processes.
        self._spare = self._new("spare") if self.expected > 0 and self.zygote is None else None
        worker.label = label
        self._live.append(worker)
        return worker

    def _new(self, label: str) -> WorkerProcess:
        return WorkerProcess(label, limits=self.limits, jail=self.jail, readable=self.readable, preload=self.preload,
                             zygote=self.zygote, scratch_bytes=None if self.scratch_mb is None else self.scratch_mb << 20)

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
        self.reaps = kind == "student" and not section.keep_processes
        """Kill the processes the student's code leaves running after each call (course.toml's
        ``keep_processes`` turns this off for a section that needs them)."""
        if isinstance(module, StudentError):
            worker.load_error = module
        else:
            try:
                worker.load(module, f"{kind}_{section.marker}", section.timeout)
            finally:
                self._reap()

    def _reap(self) -> None:
        if self.reaps:
            self.worker.reap()

    def call(self, fn: str, *args: Any, kwargs: dict | None = None, timeout: float | None = None,
             probe: str | None = None, repeat: int = 1, discard: bool = False, processes: int = 1,
             reap: bool = True) -> Any:
        """``fn(*args, **kwargs)`` in the worker. ``processes=2``: run it in two new processes
        that form one distributed group, as ``accelerate launch`` does; the value is
        ``{"ranks": [each process's result], "seconds": wall time}`` (see sandbox.launch)."""
        return self.timed(fn, *args, kwargs=kwargs, timeout=timeout, probe=probe, repeat=repeat, discard=discard,
                          processes=processes, reap=reap)[0]

    def timed(self, fn: str, *args: Any, kwargs: dict | None = None, timeout: float | None = None,
              probe: str | None = None, repeat: int = 1, discard: bool = False,
              processes: int = 1, reap: bool = True) -> tuple[Any, float]:
        """The value and the round-trip seconds measured on the grader's side. ``reap=False``
        leaves the student's processes alive after the call (a timed round: ``Bench`` reaps once
        the comparison is over)."""
        try:
            reply = self.worker.call(fn, args, kwargs or {}, timeout=timeout or self.section.timeout,
                                     repeat=repeat, probe=probe, discard=discard, processes=processes)
        except StudentError as err:
            if reap:
                self._reap()
            if err.output:
                self.outputs.append(err.output)
            if NO_LOOPBACK in err.message:  # the sandbox's network, not the student's code
                raise OSError(err.message) from None
            raise
        if reap:
            self._reap()
        if reply.output:
            self.outputs.append(reply.output)
        return reply.value, reply.seconds

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, kwargs=kwargs)

    def scratch(self, name: str) -> ScratchPath:
        """A fresh path inside the worker's scratch dir, to hand to a function that writes files."""
        if Path(name).parent != Path("."):
            self.worker.make_dir(str(Path(name).parent))
        return ScratchPath(name)

    def service(self, name: str, state: str | None = None, **options: Any) -> Service:
        """A stand-in server started inside this worker (``hfcourse.services.<name>.start``);
        the function under test receives its URL, the grader reads ``local(service.state)``."""
        state = state or f"service-{name}"
        self.worker.make_dir(state)
        return Service(name, state, tuple(sorted(options.items())))

    def collect(self, path: ScratchPath | Service) -> Path:
        """What this worker's code left at ``path`` (a scratch path, or a service's state), copied
        out for the grader to read: regular files only, never through a link, bounded in size.
        A link or a special file there fails the test (REJECTED: save real files into the
        directory you were given); nothing there gives an empty directory."""
        return self.worker.collect(self._relative(path))

    def saved(self, path: ScratchPath | Service | Path, load: Callable[[Path], Any], what: str) -> Any:
        """``load`` (``AutoTokenizer.from_pretrained``, a log reader, ``datasets.load_from_disk``)
        applied to what this worker's code saved at ``path``, collected first. For the student,
        whatever fails while it is loaded is the student's (BAD_OUTPUT naming ``what``): the files
        are its reply. For the reference, a failure is the grader's."""
        copy = self.collect(path)
        if self.kind != "student":
            return load(copy)
        from hfcourse import expect

        with expect.reply(what):
            return load(copy)

    def put(self, source: Path | bytes, name: str) -> ScratchPath:
        """Put a file or directory the grader made (or a file's ``bytes``) at ``name`` in this
        worker's scratch, owned by the worker, for a function to read; returns its scratch path."""
        self.worker.put(source if isinstance(source, bytes) else Path(source), name)
        return ScratchPath(name)

    def path(self, path: ScratchPath) -> str:
        """The absolute path of ``path`` as the worker sees it (for functions that take a str)."""
        return str(self.worker.scratch / self._relative(path))

    def private_dir(self, label: str) -> Path:
        """A new directory the grader can write and the worker cannot see (to build data in)."""
        return self.worker.private_dir(label)

    def put_dataset(self, dataset: Any, name: str, num_shards: int | None = None) -> Ref:
        """A 🤗 Datasets object (Dataset or DatasetDict) saved as a fixture directory at ``name`` in
        this worker's scratch, left writable for it (``map`` writes cache files beside the data);
        the returned reference loads it inside the worker."""
        from hfcourse.fixtures.build_ch5 import save_dataset_fixture

        built = save_dataset_fixture(dataset, self.private_dir(name) / "fixture", name, num_shards=num_shards)
        return Ref(name, self.path(self.put(built, name)), fresh=True)

    def _relative(self, path: ScratchPath | Service | Path) -> str:
        """The scratch-relative name of ``path``; a Path (one a function returned, decoded by
        ``codec.inside``) must lie under the scratch by its names alone."""
        if isinstance(path, ScratchPath):
            return path.relative
        if isinstance(path, Service):
            return path.state
        if isinstance(path, (Path, str)):
            if not Path(path).is_absolute():
                return Path(path).as_posix()
            try:
                return Path(path).relative_to(self.worker.scratch).as_posix()
            except ValueError:
                raise StudentError("BAD_OUTPUT", "the returned path is not inside the directory you were given") from None
        raise StudentError("BAD_OUTPUT", f"a path was expected, not a {type(path).__name__}")
