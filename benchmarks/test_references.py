"""The reference solutions run near the limit of the libraries: their inference throughput is at
least 0.9x a bare batched forward of the same model at the same batch size, and their training
loops at least 0.9x a bare PyTorch loop over the same batches. Both sides run in this process,
the bare side timed just before each round of the reference (pytest-benchmark times the
reference), and the ratio of medians is asserted (never a wall-clock figure)."""

from __future__ import annotations

import copy
import importlib.util
import random

import pytest
import torch

from support import ROOT
from hfcourse import fixtures
from hfcourse.bench import compare
from hfcourse.fixtures.text import sample_sentences

FLOOR = 0.9


def _solution(module: str):
    path = ROOT / "solutions" / module
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _record(benchmark, result, figure, what: str) -> None:
    benchmark.extra_info.update(what=what, reference_per_s=round(figure.student, 1), bare_per_s=round(figure.reference, 1))
    print(f"\n{what}: {figure.student:.1f} vs {figure.reference:.1f} {figure.unit}, ratio {result.ratio:.3f}")
    assert result.ratio >= FLOOR, f"{what}: {result.ratio:.2f}x the bare loop (needs {FLOOR})"


@pytest.fixture(autouse=True)
def _threads():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_classify_against_a_bare_forward(benchmark):
    """2.6 classify against one tokenizer call and one forward pass of the same batch."""
    sol = _solution("ch2/s6_putting_it_together.py")
    model, tok = fixtures.load("tiny-sst2"), fixtures.load("wordpiece-uncased")
    texts = sample_sentences(random.Random(0), 64)

    def bare():
        enc = tok(texts, padding=True, truncation=True, return_tensors="pt")
        with torch.inference_mode():
            return model(**enc).logits

    result, figure = compare(lambda: sol.classify(model, tok, texts), bare, rounds=15, warmup=2, threshold=0, benchmark=benchmark,
                             section="2.6", test="classify", unit="sentences/s", items=len(texts))
    _record(benchmark, result, figure, "2.6 classify / bare forward")


def test_train_loop_against_a_bare_loop(benchmark):
    """3.4 train_loop against a plain AdamW loop over the same batches (same data loading)."""
    sol = _solution("ch3/s4_full_training.py")
    model, tok = fixtures.load("tiny-mrpc"), fixtures.load("wordpiece-uncased")
    data = str(fixtures.path("mrpc-like") / "glue")
    args = dict(epochs=1, lr=1e-3, batch_size=8, train_rows=32, seed=0)

    def reference():
        torch.manual_seed(0)
        return sol.train_loop(copy.deepcopy(model), tok, data, *args.values())

    def bare():
        torch.manual_seed(0)
        net = copy.deepcopy(model)
        train_dl, _ = sol.dataloaders(data, tok, args["batch_size"], args["train_rows"], args["seed"])
        optimizer = torch.optim.AdamW(net.parameters(), lr=args["lr"])
        net.train()
        for batch in train_dl:
            net(**batch).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        return net

    result, figure = compare(reference, bare, rounds=9, warmup=1, threshold=0, benchmark=benchmark, section="3.4", test="train_loop",
                             unit="samples/s", items=args["train_rows"])
    _record(benchmark, result, figure, "3.4 train_loop / bare loop")
