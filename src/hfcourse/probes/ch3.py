"""Chapter 3 probes: data sets, training arguments, trainers and data loaders as plain
data, and a launcher that runs a student's Accelerate training function in two processes
on the CPU (gloo on 127.0.0.1), the way ``torchrun`` or ``notebook_launcher`` do.

The launcher starts fresh interpreters (``python -I -m hfcourse.probes.ch3 WORKDIR RANK``)
that import the student module from its file and call the function by name; nothing is
pickled. Each process writes its result (encoded by the sandbox codec) to a file in the
scratch directory.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any, Callable

WORLD_SIZE = 2
_MAX_ROWS = 5000
_LAUNCH_CAP_S = 600.0


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


def _function_source(fn: Any) -> tuple[str, str]:
    if not isinstance(fn, types.FunctionType):
        raise TypeError(f"the launcher needs a function, got a {type(fn).__name__}")
    path = fn.__code__.co_filename
    if fn.__qualname__ != fn.__name__ or fn.__globals__.get(fn.__name__) is not fn:
        raise TypeError(f"{fn.__qualname__} is not a top-level function of its module: new processes import "
                        "the training function by name, so define it at the top level")
    if not Path(path).is_file() or fn.__globals__.get("__file__") != path:
        raise TypeError(f"{fn.__name__} does not come from a module file that new processes can import")
    return path, fn.__name__


NO_LOOPBACK = "the sandbox has no loopback network"


def _check_loopback() -> None:
    """Processes of one group talk over TCP on 127.0.0.1; a network namespace whose ``lo``
    is down (connect fails with ENETUNREACH) cannot host them."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client.settimeout(5)
        try:
            client.connect(server.getsockname())
        except OSError as exc:
            raise OSError(exc.errno, f"{NO_LOOPBACK} (connecting to 127.0.0.1 failed: {exc.strerror}): "
                                     "the worker's network namespace needs its lo interface up") from None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(rank: int, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(WORLD_SIZE),
               LOCAL_WORLD_SIZE=str(WORLD_SIZE), RANK=str(rank), LOCAL_RANK=str(rank), GROUP_RANK="0")
    if sys.platform.startswith("linux"):
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    elif sys.platform == "darwin":
        env.setdefault("GLOO_SOCKET_IFNAME", "lo0")
    return env


def _read_result(path: Path) -> tuple[dict, Any]:
    from hfcourse.sandbox import codec

    data = path.read_bytes()
    c, h, b = codec.unpack_lengths(data[: codec.FRAME_PREFIX])
    body = data[codec.FRAME_PREFIX:]
    ctl = json.loads(body[:c])
    return ctl, codec.decode(body[c : c + h], body[c + h : c + h + b])


def _wait(procs: list[subprocess.Popen], cap: float) -> None:
    deadline = time.monotonic() + cap
    while any(p.poll() is None for p in procs):
        if any(p.returncode not in (None, 0) for p in procs) or time.monotonic() > deadline:
            time.sleep(0.5)
            for p in procs:
                if p.poll() is None:
                    p.kill()
        time.sleep(0.05)
    for p in procs:
        p.wait()


def two_processes(spec: Any) -> dict[str, Any]:
    """Run ``fn(*args)`` of a ``(fn, args)`` pair in two new processes that form one
    distributed CPU group; returns ``{"ranks": [result of rank 0, result of rank 1],
    "seconds": wall time}``. A failure in a process is raised here, NotImplementedError as
    itself (so an untouched stub counts as not attempted)."""
    if not (isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[1], (tuple, list))):
        raise TypeError("expected (training_function, args_tuple), what notebook_launcher takes")
    path, name = _function_source(spec[0])
    _check_loopback()
    work = Path.cwd() / f"ch3-launch-{os.getpid()}-{time.monotonic_ns()}"
    work.mkdir(parents=True)
    (work / "spec.json").write_text(json.dumps({"path": path, "name": name, "args": list(spec[1])}))
    port, start = _free_port(), time.perf_counter()
    procs = []
    for rank in range(WORLD_SIZE):
        log = open(work / f"rank{rank}.log", "wb")
        procs.append(subprocess.Popen([sys.executable, "-I", "-m", "hfcourse.probes.ch3", str(work), str(rank)],
                                      stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=_env(rank, port)))
        log.close()
    _wait(procs, _LAUNCH_CAP_S)
    seconds = time.perf_counter() - start
    replies = [_read_result(work / f"rank{r}.result") if (work / f"rank{r}.result").is_file() else None
               for r in range(WORLD_SIZE)]
    failed = sorted((r for r, reply in enumerate(replies) if reply and reply[0].get("status") != "ok"),
                    key=lambda r: replies[r][0].get("type") != "NotImplementedError")
    if failed:
        ctl = replies[failed[0]][0]
        exc = NotImplementedError if ctl.get("type") == "NotImplementedError" else RuntimeError
        raise exc(f"process {failed[0]} of {WORLD_SIZE}: {ctl.get('message', '')}")
    for rank, reply in enumerate(replies):
        if reply is None:
            tail = (work / f"rank{rank}.log").read_text(errors="replace")[-600:]
            raise RuntimeError(f"process {rank} of {WORLD_SIZE} exited with code {procs[rank].returncode} "
                               f"without a result; its last output:\n{tail}")
    results = [reply[1] for reply in replies if reply]
    return {"ranks": results, "seconds": seconds}


def _rank_main(work: Path, rank: int) -> None:
    import importlib.util

    from hfcourse.sandbox import codec
    from hfcourse.sandbox.worker import _describe

    spec = json.loads((work / "spec.json").read_text())
    try:
        loader = importlib.util.spec_from_file_location(f"{Path(spec['path']).stem}_rank{rank}", spec["path"])
        module = importlib.util.module_from_spec(loader)
        loader.loader.exec_module(module)
        value = getattr(module, spec["name"])(*spec["args"])
        h, b = codec.encode(value)
        frame, code = codec.pack({"status": "ok"}, h, b), 0
    except BaseException as exc:  # noqa: BLE001 - report whatever the student code raised
        frame, code = codec.pack({"status": "error", "type": type(exc).__name__,
                                  "message": _describe(exc, spec["path"])}), 1
    tmp = work / f"rank{rank}.result.tmp"
    tmp.write_bytes(frame)
    tmp.rename(work / f"rank{rank}.result")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


PROBES: dict[str, Callable[[Any], Any]] = {
    "dataset": dataset,
    "training_args": training_args,
    "trainer": trainer,
    "trained": trained,
    "loaders": loaders,
    "two_processes": two_processes,
}


if __name__ == "__main__":
    _rank_main(Path(sys.argv[1]), int(sys.argv[2]))
