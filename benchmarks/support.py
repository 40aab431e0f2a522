"""Helpers of the benchmarks of the suite itself (``nox -s bench``): grading speed, worker start, call overhead,
fixture builds, memory, and the fairness of throughput grading.

Figures are saved by pytest-benchmark (``--benchmark-autosave``) and compared with the previous
saved run (``--benchmark-compare``). Speed goals are asserted only as ratios measured within one
run; absolute figures are recorded in ``extra_info`` for the report, never asserted."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict | None = None, timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hfcourse.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


class TreeMemory:
    """Peak memory of a process and all its descendants, sampled every 50 ms: the sum of their
    resident sets (``peak``, which counts a page shared by forked workers once per process) and the
    sum of their proportional sets (``peak_pss``: a shared page split among its sharers, so the
    sum is what the tree really holds)."""

    def __init__(self, pid: int):
        import psutil

        self.root = psutil.Process(pid)
        self.peak = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set():
            rss = pss = 0
            try:
                for p in [self.root, *self.root.children(recursive=True)]:
                    try:
                        info = p.memory_full_info()
                        rss += info.rss
                        pss += getattr(info, "pss", info.rss)
                    except psutil.Error:
                        pass
            except psutil.Error:
                break
            self.peak = max(self.peak, rss)
            self.peak_pss = max(self.peak_pss, pss)
            time.sleep(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_cli_measured(*args: str, env: dict | None = None, timeout: float = 1800) -> tuple[subprocess.CompletedProcess, float, TreeMemory]:
    """Run the CLI; return the process, its wall time and the peak memory of its whole process tree."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "hfcourse.cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    memory = TreeMemory(proc.pid)
    out, err = proc.communicate(timeout=timeout)
    seconds = time.perf_counter() - start
    memory.stop()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), seconds, memory
