"""Trusted code that runs inside the worker: loading fixtures, turning objects into data."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable

__all__ = ["load_fixture", "start_service", "probe", "PROBES"]


def load_fixture(directory: Path, dropout: float | None = None) -> Any:
    """The tokenizer, model or data set built in ``directory`` (see hfcourse.fixtures).

    ``dropout``: a model comes in training mode with this probability in every dropout
    layer, the state a training loop leaves it in; code that evaluates it must call
    ``model.eval()`` to get the answers of the built model."""
    from hfcourse.fixtures import load_dir

    obj = load_dir(directory)
    if dropout is None:
        return obj
    import torch

    if not isinstance(obj, torch.nn.Module):
        raise TypeError(f"dropout applies to a model fixture, not to a {type(obj).__name__}")
    layers = [m for m in obj.modules() if isinstance(m, torch.nn.Dropout)]
    if not layers:
        raise TypeError(f"the model fixture in {directory.name} has no dropout layer")
    for layer in layers:
        layer.p = dropout
    return obj.train()


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


def _has_grad_history(value: Any) -> bool:
    """Whether a tensor in ``value`` (nested in lists, tuples or mappings) requires grad or
    was computed by autograd (has a ``grad_fn``)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return value.requires_grad or value.grad_fn is not None
    if isinstance(value, Mapping):
        return any(_has_grad_history(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_grad_history(v) for v in value)
    return False


def _grad(value: Any) -> dict[str, Any]:
    """``{"value": value, "grad": whether a tensor in it carries autograd history}``: the
    codec detaches tensors, so this is how a grader sees that inference ran with gradients
    on (no ``torch.no_grad()`` / ``torch.inference_mode()``)."""
    return {"value": value, "grad": _has_grad_history(value)}


PROBES: dict[str, Callable[[Any], Any]] = {
    "state_dict": _state_dict,
    "class_name": _class_name,
    "grad": _grad,
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
