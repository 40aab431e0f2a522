"""Workers forked from a zygote: their own environment, caches and seeds, and a fallback when
the zygote is gone. (tests/test_worker.py and test_jail.py run every worker test in both start
modes.)"""

from __future__ import annotations

import os
import signal
import textwrap
from pathlib import Path

import pytest

from hfcourse.sandbox.client import WorkerProcess
from hfcourse.sandbox.zygote import ForkedProcess, Zygote

MODULE = textwrap.dedent('''
    import os, tempfile
    def facts():
        import huggingface_hub.constants as hub
        import numpy
        return {"env": dict(os.environ), "initial_env": open("/proc/self/environ", "rb").read().decode(errors="replace"),
                "hf_home": hub.HF_HOME, "hub_cache": hub.HF_HUB_CACHE, "tmp": tempfile.gettempdir(),
                "draw": float(numpy.random.rand()), "pid": os.getpid()}
''')


@pytest.fixture(scope="module")
def preloaded(tmp_path_factory):
    """A zygote that imported huggingface_hub and numpy (import-time constants and a global RNG)
    while a secret sat in the grader's environment."""
    os.environ["HFCOURSE_TEST_SECRET"] = "grader-only-4711"
    try:
        z = Zygote(("huggingface_hub.constants", "numpy"))
        z._await_ready()
    finally:
        del os.environ["HFCOURSE_TEST_SECRET"]
    module = tmp_path_factory.mktemp("zmod") / "m.py"
    module.write_text(MODULE)
    yield z, module
    z.close()


def _worker(z: Zygote, module: Path) -> WorkerProcess:
    w = WorkerProcess("z", preload=(), zygote=z)
    w.load(module, "m", timeout=30)
    assert w.load_error is None, w.output_log()
    return w


def test_forked_workers_get_their_own_scratch_environment_and_seed(preloaded):
    z, module = preloaded
    a, b = _worker(*preloaded), _worker(*preloaded)
    try:
        assert isinstance(a.proc, ForkedProcess) and a.proc.pid != b.proc.pid
        fa, fb = (w.call("facts", (), {}, timeout=30).value for w in (a, b))
        for w, facts in ((a, fa), (b, fb)):
            assert facts["hf_home"] == str(w.scratch / "hf")
            assert facts["hub_cache"] == str(w.scratch / "hf" / "hub")
            assert facts["tmp"] == str(w.scratch / "tmp")
            assert facts["env"]["HOME"] == str(w.scratch)
            assert "grader-only-4711" not in repr(facts["env"]) + facts["initial_env"]
        assert not any(str(z.scratch) in repr({**f, "initial_env": ""}) for f in (fa, fb))
        assert fa["draw"] != fb["draw"]
    finally:
        a.close()
        b.close()


def test_closing_the_zygote_kills_its_workers(tmp_path):
    (tmp_path / "m.py").write_text(MODULE)
    z = Zygote(())
    w = _worker(z, tmp_path / "m.py")
    pid = w.call("facts", (), {}, timeout=30).value["pid"]
    scratch = z.scratch
    z.close()
    assert not scratch.exists()
    with pytest.raises(ProcessLookupError):
        for _ in range(200):
            os.kill(pid, 0)
            import time

            time.sleep(0.01)
    w.close()


def test_a_dead_zygote_falls_back_to_new_processes(tmp_path):
    (tmp_path / "m.py").write_text(MODULE)
    z = Zygote(())
    z._await_ready()
    os.kill(z.proc.pid, signal.SIGKILL)
    z.proc.wait()
    w = _worker(z, tmp_path / "m.py")
    try:
        assert not isinstance(w.proc, ForkedProcess) and z.failed
        assert w.call("facts", (), {}, timeout=30).value["hf_home"] == str(w.scratch / "hf")
    finally:
        w.close()
        z.close()
