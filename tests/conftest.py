"""Fixtures of the suite's own tests."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

# `hfcourse check` in a test runs in its own process, never in a background check server (the
# server's tests turn it on for themselves).
os.environ["HFCOURSE_SERVER"] = "0"

from helpers import ROOT


@pytest.fixture(scope="session")
def course():
    from hfcourse import manifest

    return manifest.load(ROOT / "course.toml")


collect_ignore_glob = ["adversarial/course/*", "adversarial/submissions/*", "faults/course/*"]


@pytest.fixture(scope="session")
def zygote():
    """A worker zygote without preloads (quick to start), for worker tests in both start modes."""
    from hfcourse.sandbox.zygote import Zygote

    z = Zygote(())
    yield z
    z.close()


@pytest.fixture(params=["process", "zygote"])
def start_mode(request):
    """How a worker starts: a new process, or forked from a zygote (``zygote=`` of WorkerProcess)."""
    return request.getfixturevalue("zygote") if request.param == "zygote" else None


@pytest.fixture(scope="session")
def grading_server():
    """A check server of this checkout, for tests that grade many times: ``run_grade(..., env=it)``
    is served by it (torch and transformers imported once, not once per grading)."""
    from helpers import run_cli

    runtime = tempfile.mkdtemp(prefix="hft-")
    env = {"HFCOURSE_SERVER": "1", "XDG_RUNTIME_DIR": runtime}
    started = run_cli("server", "start", env=env, timeout=300)
    assert started.returncode == 0, started.stdout + started.stderr
    yield env
    run_cli("server", "stop", env=env)
    shutil.rmtree(runtime, ignore_errors=True)
