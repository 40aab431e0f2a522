"""Level-0 isolation that works everywhere: environment allow-list and rlimits."""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Limits", "worker_env", "apply_rlimits"]

_PASS_THROUGH = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker process."""

    memory_bytes: int = 6 << 30
    """RLIMIT_AS: address space (CPU torch needs about 1 GiB of it to start)."""
    file_bytes: int = 256 << 20
    """RLIMIT_FSIZE: the largest file the worker may write."""
    open_files: int = 1024
    threads: int = 1
    """torch/OpenMP/MKL threads: 1 keeps results deterministic and throughput fair."""


def worker_env(scratch: Path, cache: Path, limits: Limits) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's leaks into student code."""
    env = {k: os.environ[k] for k in _PASS_THROUGH if k in os.environ}
    env.setdefault("LANG", "C.UTF-8")
    threads = str(limits.threads)
    env.update(
        HOME=str(scratch),
        TMPDIR=str(scratch / "tmp"),
        HF_HOME=str(scratch / "hf"),
        HFCOURSE_CACHE=str(cache),
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONHASHSEED="0",
        OMP_NUM_THREADS=threads,
        MKL_NUM_THREADS=threads,
        OPENBLAS_NUM_THREADS=threads,
    )
    return env


def apply_rlimits(limits: Limits) -> None:
    """Called in the child between fork and exec."""
    for res, value in (
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ):
        soft, hard = resource.getrlimit(res)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(res, (value, hard if hard != resource.RLIM_INFINITY else value))
