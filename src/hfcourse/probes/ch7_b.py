"""Chapter 7 probes of sections 7.5–7.7: optimizer parameter groups and new models as data."""

from __future__ import annotations

from typing import Any, Callable


def _param_groups(groups: Any) -> list[dict[str, Any]]:
    """Optimizer parameter groups as their weight decay and, per parameter, its shape and the
    sum of its values (enough to tell the parameters of a trained model apart)."""
    import torch

    if not isinstance(groups, (list, tuple)) or not all(isinstance(g, dict) and "params" in g for g in groups):
        raise TypeError("expected a list of parameter groups: dicts with \"params\"")
    out = []
    for group in groups:
        params = list(group["params"])
        if not all(isinstance(p, torch.Tensor) for p in params):
            raise TypeError("every entry of a group's \"params\" must be a parameter tensor")
        out.append({"weight_decay": float(group.get("weight_decay", -1.0)),
                    "shapes": [list(p.shape) for p in params],
                    "sums": [float(p.detach().double().sum()) for p in params]})
    return out


def _new_model(model: Any) -> dict[str, Any]:
    """A model's class, the size fields of its configuration and its parameter count."""
    config = getattr(model, "config", None)
    if config is None:
        raise TypeError(f"expected a transformers model, got a {type(model).__name__}")
    fields = ("model_type", "vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "bos_token_id", "eos_token_id")
    return {"class": type(model).__name__, "config": {k: getattr(config, k, None) for k in fields},
            "parameters": sum(p.numel() for p in model.parameters())}


PROBES: dict[str, Callable[[Any], Any]] = {
    "param_groups": _param_groups,
    "new_model": _new_model,
}
