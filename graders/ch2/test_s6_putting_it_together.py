"""Grader for 2.6 Putting it all together."""

import numpy as np
import pytest
import torch

from hfcourse import expect
from hfcourse.fixtures.text import sample_sentences

TOK, CLASSIFIER = "wordpiece-uncased", "tiny-sst2"
NO_GRAD = ("run the model inside `with torch.no_grad():` (or torch.inference_mode()): inference needs no gradients",
           "在 `with torch.no_grad():`（或 torch.inference_mode()）中运行模型：推理不需要梯度")
"""The likely mistake when a returned tensor carries autograd history (seen through the "grad" probe)."""

WAYS = {
    "longest": dict(padding="longest"),
    "max_length": dict(padding="max_length"),
    "max_length_8": dict(padding="max_length", max_length=8, truncation=True),
    "truncated_8": dict(max_length=8, truncation=True),
}


@pytest.mark.grade(points=1, visibility="visible",
                   hint="padding=\"longest\" | \"max_length\"; max_length=8 with truncation=True; truncation alone pads nothing.",
                   hint_zh="padding=\"longest\" 或 \"max_length\"；max_length=8 配合 truncation=True；只截断不会补齐。")
@pytest.mark.parametrize("way", list(WAYS))
def test_encode_all_ways(student, fx, rng, way):
    texts = sample_sentences(rng, 4)
    texts.insert(rng.randrange(5), sample_sentences(rng, 1)[0].split()[0])  # one word: shorter than 8 tokens
    got = student.encode_all_ways(fx.ref(TOK), texts)
    expect.true(isinstance(got, dict) and way in got, f"the result has no {way!r} entry")
    expect.equal(got[way], fx.load(TOK)(texts, **WAYS[way])["input_ids"], f"input_ids with {way}")


@pytest.mark.grade(points=1, hint="return_tensors=\"pt\" gives a torch.Tensor, \"np\" a numpy.ndarray.",
                   hint_zh="return_tensors=\"pt\" 返回 torch.Tensor，\"np\" 返回 numpy.ndarray。")
@pytest.mark.parametrize("framework", ["pt", "np"])
def test_to_tensors(student, fx, rng, framework):
    texts = sample_sentences(rng, 3)
    got = student.to_tensors(fx.ref(TOK), texts, framework)
    kind = torch.Tensor if framework == "pt" else np.ndarray
    expect.true(type(got) is kind, f"with framework={framework!r} expected a {kind.__name__}, got a {type(got).__name__}")
    expect.equal(np.asarray(got).tolist(), fx.load(TOK)(texts, padding=True)["input_ids"], "input_ids")


@pytest.mark.grade(points=1, hint="convert_ids_to_tokens(tokenizer(text)[\"input_ids\"]) shows [CLS] … [SEP].",
                   hint_zh="convert_ids_to_tokens(tokenizer(text)[\"input_ids\"]) 会显示 [CLS] … [SEP]。")
def test_tokens_with_specials(student, fx, rng):
    tok = fx.load(TOK)
    text = sample_sentences(rng, 1)[0]
    expect.equal(student.tokens_with_specials(fx.ref(TOK), text), ["[CLS]", *tok.tokenize(text), "[SEP]"],
                 "tokens the model sees")


@pytest.mark.grade(points=2, hint="tokenizer(texts, padding=True, truncation=True, return_tensors=\"pt\"), model(**tokens), softmax over dim=-1.",
                   hint_zh="tokenizer(texts, padding=True, truncation=True, return_tensors=\"pt\")，model(**tokens)，在 dim=-1 上做softmax。")
def test_classify_matches_reference(student, reference, fx, rng):
    texts = sample_sentences(rng, 6)
    texts[rng.randrange(6)] = " ".join(sample_sentences(rng, 80))
    got = student.call("classify", fx.ref(CLASSIFIER), fx.ref(TOK), texts, probe="grad")
    expect.true(not got["grad"], "classify returned probabilities that carry autograd history", likely=NO_GRAD)
    got = got["value"]
    expect.close(got, reference.classify(fx.ref(CLASSIFIER), fx.ref(TOK), texts), "probabilities", atol=1e-5,
                 likely=("use padding=True and truncation=True, pass the attention mask, softmax over dim=-1",
                         "使用 padding=True 和 truncation=True，传入注意力掩码，在 dim=-1 上做softmax"))


@pytest.mark.grade(points=3, hint="Tokenize and run the model once for the whole batch; a loop over single texts is far slower.",
                   hint_zh="整个batch只tokenize一次、只运行一次模型；逐句循环要慢得多。")
def test_classify_batch_throughput(student, reference, fx, rng, bench):
    texts = sample_sentences(rng, 64)
    expect.close(student.classify(fx.ref(CLASSIFIER), fx.ref(TOK), texts),
                 reference.classify(fx.ref(CLASSIFIER), fx.ref(TOK), texts), "probabilities", atol=1e-5)
    bench.compare("classify", fx.ref(CLASSIFIER), fx.ref(TOK), texts, unit="sentences/s", items=len(texts),
                  threshold=0.5, likely=("batch the texts: one tokenizer call and one forward pass",
                                         "批量处理：一次tokenizer调用和一次前向计算"))
