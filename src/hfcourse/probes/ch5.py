"""Chapter 5 probes: turn the data sets and iterators a student returns into plain data.

``dataset``       a Dataset / DatasetDict / IterableDataset → type, rows, columns, features, format
``remote``        ``dataset``, plus the offline flags of ``datasets.config`` after the call
``mmap_scan``     how much of a returned Dataset sits in RAM (Arrow's allocated bytes; a memory-mapped
                  data set has none), then iterate it in batches of 1000 and report the growth of
                  anonymous memory (mapped file pages are not counted: they are the file's)
``consume``       drain a returned generator of batches (dicts of columns), measuring the same growth
"""

from __future__ import annotations

import gc
from typing import Any, Callable

__all__ = ["PROBES", "anon_mb"]

MAX_ROWS = 20_000
_MB = 1 << 20


def anon_mb() -> float:
    """Anonymous resident memory of this process in MiB (file-backed mapped pages excluded)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import psutil

    return psutil.Process().memory_info().rss / _MB


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / _MB


def _plain(value: Any) -> Any:
    """Rows as plain data: timestamps and dates become ISO strings."""
    import datetime as dt

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return value


def _one(ds: Any) -> dict[str, Any]:
    plain = ds.with_format(None)
    n = len(plain)
    return {
        "num_rows": n,
        "columns": list(plain.column_names),
        "features": {k: repr(v) for k, v in plain.features.items()},
        "format": ds.format.get("type"),
        "rows": _plain(plain.select(range(min(n, MAX_ROWS))).to_list()),
        "truncated": n > MAX_ROWS,
        "indexes": list(ds.list_indexes()),
    }


def _dataset(obj: Any) -> dict[str, Any]:
    import datasets

    if isinstance(obj, datasets.DatasetDict):
        return {"type": "DatasetDict", "splits": {k: _one(v) for k, v in obj.items()}}
    if isinstance(obj, datasets.Dataset):
        return {"type": "Dataset", **_one(obj)}
    if isinstance(obj, datasets.IterableDatasetDict):
        return {"type": "IterableDatasetDict", "splits": {k: {"columns": v.column_names} for k, v in obj.items()}}
    if isinstance(obj, datasets.IterableDataset):
        rows = [row for _, row in zip(range(MAX_ROWS), obj)]
        return {"type": "IterableDataset", "rows": _plain(rows), "columns": obj.column_names}
    return {"type": type(obj).__name__}


def _arrow_mb() -> float:
    import pyarrow as pa

    return round(pa.total_allocated_bytes() / _MB, 1)


def _remote(obj: Any) -> dict[str, Any]:
    import datasets

    flags = [bool(datasets.config.HF_HUB_OFFLINE), bool(datasets.config.HF_DATASETS_OFFLINE)]
    return {**_dataset(obj), "offline_flags_after": flags}


def _growth(batches: Any) -> dict[str, Any]:
    gc.collect()
    anon0, rss0 = anon_mb(), _rss_mb()
    peak, sizes, pmids = anon0, [], 0
    for batch in batches:
        column = next(iter(batch.values())) if isinstance(batch, dict) and batch else []
        sizes.append(len(column))
        if isinstance(batch, dict) and isinstance(batch.get("meta"), list):
            pmids += sum(int(m["pmid"]) for m in batch["meta"])
        peak = max(peak, anon_mb())
        del batch, column
    return {"batch_sizes": sizes, "rows": sum(sizes), "pmid_sum": pmids,
            "anon_growth_mb": round(peak - anon0, 1), "rss_growth_mb": round(_rss_mb() - rss0, 1)}


def _mmap_scan(obj: Any) -> dict[str, Any]:
    import datasets

    if not isinstance(obj, datasets.Dataset):
        return {"type": type(obj).__name__}
    ds = obj.with_format(None)
    in_memory = _arrow_mb()
    out = _growth(ds[i:i + 1000] for i in range(0, len(ds), 1000))
    out.update(type="Dataset", num_rows=len(ds), dataset_size=ds.dataset_size, arrow_in_memory_mb=in_memory,
               cache_files=len(ds.cache_files), columns=list(ds.column_names))
    return out


def _consume(obj: Any) -> dict[str, Any]:
    import inspect

    if not inspect.isgenerator(obj):
        return {"type": type(obj).__name__}
    return {"type": "generator", **_growth(obj)}


PROBES: dict[str, Callable[[Any], Any]] = {
    "dataset": _dataset,
    "remote": _remote,
    "mmap_scan": _mmap_scan,
    "consume": _consume,
}
