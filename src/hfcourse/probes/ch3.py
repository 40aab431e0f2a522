"""Chapter 3 probes: data sets, training arguments, trainers and data loaders as plain
data, and the ``(training_function, args)`` pair of ``notebook_launcher`` run in two
processes on the CPU (gloo on 127.0.0.1, see ``hfcourse.sandbox.launch``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable


WORLD_SIZE = 2
_MAX_ROWS = 5000


def _feature(feature: Any) -> dict[str, Any]:
    kind = type(feature).__name__
    if kind == "ClassLabel":
        return {"type": kind, "names": list(feature.names)}
    if kind == "Value":
        return {"type": kind, "dtype": str(feature.dtype)}
    inner = getattr(feature, "feature", None)
    return {"type": kind, **({"feature": _feature(inner)} if inner is not None else {})}


def _split(ds: Any) -> dict[str, Any]:
    out = {
        "num_rows": ds.num_rows,
        "columns": list(ds.column_names),
        "features": {k: _feature(v) for k, v in ds.features.items()},
        "format": ds.format["type"],
    }
    if ds.num_rows <= _MAX_ROWS:
        out["rows"] = ds.with_format(None)[:]
    return out


def dataset(obj: Any) -> dict[str, Any]:
    """A ``Dataset`` as ``{"dataset": …}`` or a ``DatasetDict`` as ``{"splits": {name: …}}``:
    rows, columns, features, format type and (up to 5000 rows) the rows as lists."""
    import datasets

    if isinstance(obj, datasets.DatasetDict):
        return {"splits": {name: _split(ds) for name, ds in obj.items()}}
    if isinstance(obj, datasets.Dataset):
        return {"dataset": _split(obj)}
    raise TypeError(f"expected a datasets.Dataset or DatasetDict, got a {type(obj).__name__}")


def _value(v: Any) -> Any:
    if hasattr(v, "value") and type(v).__module__.startswith("transformers"):
        return v.value
    if isinstance(v, (list, tuple)):
        return [_value(x) for x in v]
    return v if v is None or isinstance(v, (bool, int, float, str)) else str(v)


_ARGS = ("output_dir", "eval_strategy", "save_strategy", "logging_strategy", "eval_steps", "logging_steps",
         "num_train_epochs", "max_steps", "learning_rate", "seed", "per_device_train_batch_size",
         "per_device_eval_batch_size", "report_to", "disable_tqdm", "load_best_model_at_end",
         "metric_for_best_model", "greater_is_better", "lr_scheduler_type", "warmup_steps", "weight_decay",
         "gradient_accumulation_steps", "save_total_limit")


def training_args(args: Any) -> dict[str, Any]:
    """Selected fields of ``TrainingArguments``; enums as their string values."""
    from transformers import TrainingArguments

    if not isinstance(args, TrainingArguments):
        raise TypeError(f"expected TrainingArguments, got a {type(args).__name__}")
    out = {name: _value(getattr(args, name, None)) for name in _ARGS}
    out["output_dir"] = Path(str(args.output_dir)).name
    return out


def _callback(cb: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": type(cb).__name__}
    for attr in ("early_stopping_patience", "early_stopping_threshold"):
        if hasattr(cb, attr):
            out[attr] = getattr(cb, attr)
    return out


def _rows(ds: Any) -> int | None:
    return len(ds) if ds is not None and hasattr(ds, "__len__") else None


def _longest(ds: Any) -> int | None:
    """The length of the longest ``input_ids`` row of a data set (None without that column)."""
    if ds is None or "input_ids" not in (getattr(ds, "column_names", None) or []):
        return None
    return max((len(ids) for ids in ds["input_ids"]), default=0)


def trainer(tr: Any) -> dict[str, Any]:
    """A ``Trainer``'s arguments, processing class, collator, data (with the length of its
    longest training row), callbacks and state."""
    from transformers import Trainer

    if not isinstance(tr, Trainer):
        raise TypeError(f"expected a transformers.Trainer, got a {type(tr).__name__}")
    state = tr.state
    best = state.best_model_checkpoint
    return {
        "args": training_args(tr.args),
        "processing_class": type(tr.processing_class).__name__ if tr.processing_class is not None else None,
        "data_collator": type(tr.data_collator).__name__,
        "compute_metrics": tr.compute_metrics is not None,
        "train_rows": _rows(tr.train_dataset),
        "eval_rows": _rows(tr.eval_dataset),
        "train_columns": list(getattr(tr.train_dataset, "column_names", []) or []),
        "longest_train_row": _longest(tr.train_dataset),
        "callbacks": [_callback(cb) for cb in tr.callback_handler.callbacks],
        "state": {
            "global_step": state.global_step,
            "max_steps": state.max_steps,
            "epoch": state.epoch,
            "best_metric": state.best_metric,
            "best_global_step": getattr(state, "best_global_step", None),
            "best_model_checkpoint": Path(best).name if best else None,
            "log_history": [dict(entry) for entry in state.log_history],
        },
    }


def trained(tr: Any) -> dict[str, Any]:
    """``trainer`` plus ``final_eval``: ``trainer.evaluate()`` of the model it ends with."""
    out = trainer(tr)
    out["final_eval"] = {k: v for k, v in tr.evaluate().items() if isinstance(v, (int, float))}
    return out


def loaders(pair: Any) -> dict[str, Any]:
    """A ``(train, eval)`` pair of data loaders as their batches (dicts of tensors)."""
    from torch.utils.data import DataLoader

    if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(d, DataLoader) for d in pair)):
        raise TypeError("expected a tuple of two torch DataLoaders (train, eval)")
    return {name: [dict(batch) for batch in dl] for name, dl in zip(("train", "eval"), pair)}


# -- two processes ---------------------------------------------------------------


def two_processes(spec: Any) -> dict[str, Any]:
    """Run ``fn(*args)`` of a ``(fn, args)`` pair, what ``notebook_launcher`` takes, in two
    new processes that form one distributed CPU group (``hfcourse.sandbox.launch``); returns
    ``{"ranks": [result of rank 0, result of rank 1], "seconds": wall time}``."""
    from hfcourse.sandbox import codec, launch

    if not (isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[1], (tuple, list))):
        raise TypeError("expected (training_function, args_tuple), what notebook_launcher takes")
    header, blob = codec.encode({"args": list(spec[1]), "kwargs": {}})
    return launch.run(spec[0], header, blob, WORLD_SIZE)


PROBES: dict[str, Callable[[Any], Any]] = {
    "dataset": dataset,
    "training_args": training_args,
    "trainer": trainer,
    "trained": trained,
    "loaders": loaders,
    "two_processes": two_processes,
}

