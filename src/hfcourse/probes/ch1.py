"""Chapter 1 probes: the classes and models a student's function returns, as plain data."""

from __future__ import annotations

from typing import Any, Callable


def _class_name(obj: Any) -> str:
    """The name of a returned class (``AutoModelForMaskedLM``); for anything else, the name of
    its type, so a string or an instance shows up as "str" or "BertModel"."""
    return obj.__name__ if isinstance(obj, type) else type(obj).__name__


def _model_info(model: Any) -> dict:
    """The class of a returned model, whether it is in training mode, and its label count."""
    config = getattr(model, "config", None)
    return {"class": type(model).__name__, "training": bool(getattr(model, "training", False)),
            "num_labels": int(getattr(config, "num_labels", 0) or 0)}


PROBES: dict[str, Callable[[Any], Any]] = {
    "class_name": _class_name,
    "model_info": _model_info,
}
