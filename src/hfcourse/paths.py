"""Where the course lives and where built artifacts go."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["course_root", "cache_dir"]

_MARKER = "course.toml"


def course_root() -> Path:
    """The directory holding ``course.toml``.

    Looked up in this order: ``$HFCOURSE_ROOT``, the current directory and its
    parents, then the checkout this package was installed from.
    """
    env = os.environ.get("HFCOURSE_ROOT")
    if env:
        root = Path(env).resolve()
        if not (root / _MARKER).is_file():
            raise FileNotFoundError(
                f"HFCOURSE_ROOT={env} has no {_MARKER}: point it at the course checkout"
            )
        return root
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / _MARKER).is_file():
            return candidate
    installed = Path(__file__).resolve().parents[2]
    if (installed / _MARKER).is_file():
        return installed
    raise FileNotFoundError(
        f"no {_MARKER} found from {here} upwards: run hfcourse inside the course checkout "
        "or set HFCOURSE_ROOT"
    )


def cache_dir() -> Path:
    """Root of the built-artifact cache (``$HFCOURSE_CACHE``, else ``~/.cache/hfcourse``)."""
    env = os.environ.get("HFCOURSE_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hfcourse"
    return base.resolve()
