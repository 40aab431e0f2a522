"""Chapter 4 probes: turn what a student returns into plain data inside the worker.

``loaded``   a ``(tokenizer, model)`` pair → class names, vocabulary, mask token, the model's weights
``card``     a ``huggingface_hub.ModelCard`` → its class name and full text (YAML header and body)
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["PROBES"]


def _loaded(obj: Any) -> dict[str, Any]:
    if not (isinstance(obj, tuple) and len(obj) == 2):
        return {"type": type(obj).__name__}
    tok, model = obj
    state = model.state_dict() if hasattr(model, "state_dict") else {}
    return {
        "type": "pair",
        "tokenizer": type(tok).__name__,
        "model": type(model).__name__,
        "vocab_size": len(tok) if hasattr(tok, "__len__") else None,
        "mask_token": getattr(tok, "mask_token", None),
        "state_dict": {k: v.detach().clone() for k, v in state.items()},
    }


def _card(obj: Any) -> dict[str, Any]:
    from huggingface_hub import RepoCard

    if not isinstance(obj, RepoCard):
        return {"type": type(obj).__name__}
    return {"type": type(obj).__name__, "content": str(obj)}


PROBES: dict[str, Callable[[Any], Any]] = {
    "loaded": _loaded,
    "card": _card,
}
