"""Trusted code that runs inside the worker: loading fixtures, turning objects into data."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

__all__ = ["load_fixture", "start_service", "probe", "PROBES"]


def load_fixture(directory: Path) -> Any:
    """The tokenizer, model or data set built in ``directory`` (see hfcourse.fixtures)."""
    from hfcourse.fixtures import load_dir

    return load_dir(directory)


def start_service(name: str, state: Path, options: dict) -> str:
    """Start ``hfcourse.services.<name>`` in this process; its base URL goes to the student."""
    import importlib
    import re

    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"bad service name {name!r}")
    module = importlib.import_module(f"hfcourse.services.{name}")
    state.mkdir(parents=True, exist_ok=True)
    return module.start(state, **options)


def _state_dict(model: Any) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _class_name(obj: Any) -> str:
    return type(obj).__name__


PROBES: dict[str, Callable[[Any], Any]] = {
    "state_dict": _state_dict,
    "class_name": _class_name,
}


def probe(name: str) -> Callable[[Any], Any]:
    """A probe by name: a core one above, or ``"module:name"`` from ``hfcourse.probes.<module>.PROBES``."""
    import importlib
    import re

    if name in PROBES:
        return PROBES[name]
    module, _, attr = name.partition(":")
    if not (re.fullmatch(r"[a-z][a-z0-9_]*", module) and attr):
        raise KeyError(f"unknown probe {name!r}")
    return importlib.import_module(f"hfcourse.probes.{module}").PROBES[attr]
