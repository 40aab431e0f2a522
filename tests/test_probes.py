"""The core probes of the worker (hfcourse.sandbox.adapters.PROBES): trusted code that turns
what a student's function returned into data a grader can check."""

from __future__ import annotations

import textwrap

import pytest
import torch

from hfcourse.sandbox.adapters import probe
from hfcourse.sandbox.client import StudentError, WorkerProcess

MODULE = textwrap.dedent('''
    import torch
    LAYER = torch.nn.Linear(3, 2)
    def with_grad(): return LAYER(torch.ones(1, 3))
    def no_grad():
        with torch.no_grad():
            return LAYER(torch.ones(1, 3))
    def inference():
        with torch.inference_mode():
            return {"logits": LAYER(torch.ones(1, 3))}
    def nested(): return [1, ("x", {"a": torch.zeros(2), "b": LAYER(torch.ones(1, 3))})]
    def todo(): raise NotImplementedError("9.9 todo: not implemented yet")
''')


def test_grad_probe_finds_autograd_history_anywhere_in_the_value():
    grad = probe("grad")
    layer = torch.nn.Linear(3, 2)
    tracked = layer(torch.ones(1, 3))
    with torch.no_grad():
        plain = layer(torch.ones(1, 3))
    assert grad(tracked) == {"value": tracked, "grad": True}
    assert grad(plain)["grad"] is False and grad(plain)["value"] is plain
    assert grad(torch.zeros(2, requires_grad=True))["grad"] is True
    assert grad([plain, ("a", {"deep": tracked})])["grad"] is True
    assert grad({"logits": plain, "labels": [1, 2], "name": "x"})["grad"] is False
    assert grad(None) == {"value": None, "grad": False}
    assert grad(tracked.detach())["grad"] is False


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    path = tmp_path_factory.mktemp("student") / "mod.py"
    path.write_text(MODULE)
    w = WorkerProcess("test", preload=("torch",))
    w.load(path, "mod", timeout=60)
    assert w.load_error is None
    yield w
    w.close()


@pytest.mark.parametrize("fn, grad", [("with_grad", True), ("no_grad", False), ("inference", False), ("nested", True)])
def test_grad_probe_reports_through_the_worker(worker, fn, grad):
    reply = worker.call(fn, (), {}, timeout=30, probe="grad").value
    assert reply["grad"] is grad
    value = reply["value"]
    tensor = value if fn in ("with_grad", "no_grad") else value["logits"] if fn == "inference" else value[1][1]["b"]
    assert isinstance(tensor, torch.Tensor) and tensor.shape == (1, 2) and not tensor.requires_grad


def test_grad_probe_leaves_an_unfinished_stub_not_attempted(worker):
    with pytest.raises(StudentError) as err:
        worker.call("todo", (), {}, timeout=30, probe="grad")
    assert err.value.category == "NOT_ATTEMPTED"
