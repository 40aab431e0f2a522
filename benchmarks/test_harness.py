"""Worker start, call overhead and fixture builds."""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest
import torch

from support import run_cli
from hfcourse.sandbox.client import WorkerProcess
from hfcourse.sandbox.levels import plan
from hfcourse.targets import WorkerPool

MODULE = textwrap.dedent('''
    def echo(x):
        return x
    def total(t):
        return float(t.sum())
''')
JAIL = plan().jail


@pytest.fixture(scope="module")
def module_file():
    # the jailed worker runs as an unprivileged uid: the module must be world-readable
    directory = Path(tempfile.mkdtemp(prefix="hfcourse-bench-"))
    directory.chmod(0o755)
    path = directory / "mod.py"
    path.write_text(MODULE)
    path.chmod(0o644)
    yield path
    shutil.rmtree(directory, ignore_errors=True)


def _loaded(w: WorkerProcess, path: Path) -> WorkerProcess:
    w.load(path, "mod", timeout=120)
    assert w.load_error is None, w.load_error.message
    return w


@pytest.mark.parametrize("preload", [(), ("torch", "transformers")], ids=["bare", "torch+transformers"])
def test_worker_start_cold(benchmark, module_file, preload):
    """A new worker process, from spawn to a loaded module (no spare booting in advance)."""
    def start():
        return _loaded(WorkerProcess("bench", preload=preload, jail=JAIL, readable=(str(module_file.parent),)),
                       module_file)

    workers = []
    benchmark.pedantic(lambda: workers.append(start()), rounds=3, iterations=1)
    for w in workers:
        w.close()
    benchmark.extra_info.update(jail=JAIL, preload=",".join(preload) or "none")


@pytest.fixture(scope="module")
def zygote():
    """A ready zygote with the course's preload modules, as a grading run has."""
    from hfcourse import manifest
    from hfcourse.sandbox.zygote import Zygote

    z = Zygote(manifest.load().preload)
    z._await_ready()
    yield z
    z.close()


def test_worker_start_warm(benchmark, module_file, zygote):
    """What a grader test waits for: a worker forked from the run's zygote, to a loaded module."""
    workers = []

    def start():
        workers.append(_loaded(WorkerProcess("bench", jail=JAIL, readable=(str(module_file.parent),), zygote=zygote),
                               module_file))

    benchmark.pedantic(start, rounds=10, iterations=1, warmup_rounds=1)
    for w in workers:
        w.close()
    benchmark.extra_info.update(jail=JAIL, started="forked from the zygote")


def test_worker_start_pool_spare(benchmark, module_file):
    """Without a zygote (HFCOURSE_ZYGOTE=0): acquiring the pool's spare, booted while the previous section ran."""
    pool = WorkerPool(expected=100, jail=JAIL, readable=(str(module_file.parent),))
    first = pool.acquire("first")
    pool.release(first)
    waited = []

    def acquire():
        waited.append(_loaded(pool.acquire("bench"), module_file))

    def settle():
        spare = pool._spare
        if spare is not None:
            spare._await_ready()

    benchmark.pedantic(acquire, setup=settle, rounds=5, iterations=1)
    for w in waited:
        pool.release(w)
    pool.close()
    benchmark.extra_info.update(jail=JAIL)


@pytest.fixture(scope="module")
def worker(module_file):
    w = _loaded(WorkerProcess("bench", preload=("torch",), jail=JAIL, readable=(str(module_file.parent),)), module_file)
    yield w
    w.close()


def test_call_overhead_small(benchmark, worker):
    """Round trip of a call with a small payload (grader -> worker -> grader)."""
    payload = {"texts": ["a short sentence"] * 4, "k": 3}
    result = benchmark.pedantic(lambda: worker.call("echo", (payload,), {}, timeout=30), rounds=200, iterations=1,
                                warmup_rounds=5)
    assert result.value == payload


def test_call_overhead_tensor_10mb(benchmark, worker):
    """Round trip of a 10 MB float32 tensor in and a float out."""
    t = torch.ones(2_621_440)
    result = benchmark.pedantic(lambda: worker.call("total", (t,), {}, timeout=60), rounds=20, iterations=1,
                                warmup_rounds=2)
    assert result.value == float(t.numel())


CH2_FIXTURES = ("sst2-like", "wordpiece-uncased", "tiny-bert", "tiny-sst2")


def test_fixture_build_cold(once, tmp_path):
    """Chapter 2's fixtures built from their recipes into an empty cache."""
    proc = once(run_cli, "fixtures", "build", *CH2_FIXTURES, env={"HFCOURSE_CACHE": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_fixture_path_warm(benchmark):
    """Locating a built fixture in the cache (what every grader test does)."""
    from hfcourse import fixtures

    fixtures.path("tiny-sst2")
    benchmark(fixtures.path, "tiny-sst2")
