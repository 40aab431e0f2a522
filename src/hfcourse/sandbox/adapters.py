"""Trusted code that runs inside the worker: loading fixtures, turning objects into data."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

__all__ = ["load_fixture", "PROBES"]


def load_fixture(directory: Path) -> Any:
    """The tokenizer, model or data set built in ``directory`` (see hfcourse.fixtures)."""
    from hfcourse.fixtures import load_dir

    return load_dir(directory)


def _state_dict(model: Any) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _class_name(obj: Any) -> str:
    return type(obj).__name__


PROBES: dict[str, Callable[[Any], Any]] = {
    "state_dict": _state_dict,
    "class_name": _class_name,
}
