"""The course manifest (``course.toml``): sections in course order."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from hfcourse.paths import course_root

__all__ = ["Course", "Section", "ManifestError", "load"]

FORMAT_VERSION = 1
_ID = re.compile(r"^(\d+)\.(\d+[a-z]?)$")
_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
_STATUSES = ("ready", "planned")


class ManifestError(ValueError):
    """course.toml is malformed; the message names the entry and the fix."""


@dataclass(frozen=True)
class Section:
    """One course section: what students implement and how it is graded."""

    id: str
    """Upstream course numbering, e.g. ``"2.6"``."""
    slug: str
    """Module slug: the files are ``ch<chapter>/s<number>_<slug>.py``."""
    title: str
    title_zh: str
    points: float
    """The section's maximum score (the sum of its grader tests' points)."""
    status: str = "planned"
    timeout: float = 60.0
    """Seconds one call into student code may take."""
    scratch_mb: int = 512
    """Size of a student worker's scratch directory (its own tmpfs where the machine allows)."""
    keep_processes: bool = False
    """Let processes that student code starts outlive the call that started them (by default
    they are killed when the call returns, so nothing of the student runs between calls)."""
    hints: tuple[str, ...] = ()
    hints_zh: tuple[str, ...] = ()

    @property
    def chapter(self) -> int:
        return int(self.id.split(".")[0])

    @property
    def number(self) -> str:
        return self.id.split(".")[1]

    @property
    def module(self) -> str:
        """Path of the module relative to solutions/ or exercises/."""
        return f"ch{self.chapter}/s{self.number}_{self.slug}.py"

    @property
    def grader(self) -> str:
        """Path of the grader module relative to graders/."""
        return f"ch{self.chapter}/test_s{self.number}_{self.slug}.py"

    @property
    def marker(self) -> str:
        """The pytest marker that selects this section: ``s2_6``."""
        return "s" + self.id.replace(".", "_")

    @property
    def ready(self) -> bool:
        return self.status == "ready"

    def title_in(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title


@dataclass(frozen=True)
class Course:
    """The whole manifest."""

    title: str
    title_zh: str
    url: str
    sections: tuple[Section, ...]
    root: Path = field(default=Path("."))
    preload: tuple[str, ...] = ("torch", "transformers")
    """Modules every worker imports before student code: the zygote imports them once per run."""

    def section(self, sid: str) -> Section:
        for s in self.sections:
            if s.id == sid:
                return s
        raise KeyError(f"no section {sid!r} in course.toml (known: {', '.join(s.id for s in self.sections)})")

    def select(self, specs: list[str] | tuple[str, ...] | None, *, ready_only: bool = True) -> list[Section]:
        """Sections named by ``specs``: ids (``2.6``) or whole chapters (``2``); all when empty."""
        pool = [s for s in self.sections if s.ready or not ready_only]
        if not specs:
            return pool
        chosen: list[Section] = []
        for spec in specs:
            spec = spec.strip()
            if "." in spec:
                sec = self.section(spec)
                if ready_only and not sec.ready:
                    raise KeyError(f"section {spec} is planned, not ready: it has no graders yet")
                hits = [sec]
            else:
                if not spec.isdigit():
                    raise KeyError(f"{spec!r} is neither a section id like 2.6 nor a chapter number like 2")
                hits = [s for s in pool if s.chapter == int(spec)]
                if not hits:
                    raise KeyError(f"chapter {spec} has no ready sections")
            chosen.extend(h for h in hits if h not in chosen)
        return sorted(chosen, key=self.sections.index)

    def by_grader(self, relpath: str) -> Section | None:
        """The section whose grader module is ``relpath`` (relative to graders/)."""
        relpath = relpath.replace("\\", "/")
        for s in self.sections:
            if s.grader == relpath:
                return s
        return None


def _section(raw: dict, default_timeout: float, where: str, default_scratch_mb: int = 512) -> Section:
    missing = [k for k in ("id", "slug", "title", "title_zh", "points") if k not in raw]
    if missing:
        raise ManifestError(f"{where}: missing {', '.join(missing)}")
    known = {"id", "slug", "title", "title_zh", "points", "status", "timeout", "scratch_mb", "keep_processes",
             "hints", "hints_zh"}
    extra = sorted(set(raw) - known)
    if extra:
        raise ManifestError(f"{where}: unknown key(s) {', '.join(extra)} (allowed: {', '.join(sorted(known))})")
    sid = str(raw["id"])
    if not _ID.match(sid):
        raise ManifestError(f"{where}: id {sid!r} must look like 2.6 or 6.3b")
    if not _SLUG.match(raw["slug"]):
        raise ManifestError(f"{where}: slug {raw['slug']!r} must be lower_snake_case")
    status = raw.get("status", "planned")
    if status not in _STATUSES:
        raise ManifestError(f"{where}: status {status!r} must be one of {', '.join(_STATUSES)}")
    hints, hints_zh = tuple(raw.get("hints", ())), tuple(raw.get("hints_zh", ()))
    if len(hints) != len(hints_zh):
        raise ManifestError(f"{where}: {len(hints)} hints but {len(hints_zh)} hints_zh: give each hint in both languages")
    if not (isinstance(raw["points"], (int, float)) and raw["points"] > 0):
        raise ManifestError(f"{where}: points must be a positive number")
    scratch_mb = raw.get("scratch_mb", default_scratch_mb)
    if type(scratch_mb) is not int or not 16 <= scratch_mb <= 65536:
        raise ManifestError(f"{where}: scratch_mb must be a whole number of MiB from 16 to 65536, not {scratch_mb!r}")
    if type(raw.get("keep_processes", False)) is not bool:
        raise ManifestError(f"{where}: keep_processes must be true or false")
    return Section(
        id=sid,
        slug=raw["slug"],
        title=raw["title"],
        title_zh=raw["title_zh"],
        points=float(raw["points"]),
        status=status,
        timeout=float(raw.get("timeout", default_timeout)),
        scratch_mb=scratch_mb,
        keep_processes=raw.get("keep_processes", False),
        hints=hints,
        hints_zh=hints_zh,
    )


def load(path: Path | None = None) -> Course:
    """Read and check ``course.toml`` (default: the one at the course root)."""
    path = path or course_root() / "course.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: not valid TOML: {exc}") from None
    if data.get("format_version") != FORMAT_VERSION:
        raise ManifestError(f"{path}: format_version must be {FORMAT_VERSION}")
    meta = data.get("course", {})
    timeout = float(meta.get("timeout", 60))
    scratch_mb = meta.get("scratch_mb", 512)
    sections = tuple(
        _section(raw, timeout, f"{path.name} [[section]] #{i + 1} ({raw.get('id', '?')})", scratch_mb)
        for i, raw in enumerate(data.get("section", []))
    )
    seen: set[str] = set()
    for s in sections:
        if s.id in seen:
            raise ManifestError(f"{path.name}: section {s.id} is listed twice")
        seen.add(s.id)
    return Course(
        title=meta.get("title", "course"),
        title_zh=meta.get("title_zh", meta.get("title", "course")),
        url=meta.get("url", ""),
        sections=sections,
        root=path.parent,
        preload=tuple(meta.get("preload", ("torch", "transformers"))),
    )
