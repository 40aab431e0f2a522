"""Grader for 2.2 Behind the pipeline."""

import pytest
import torch

from hfcourse import expect
from hfcourse.fixtures.text import sample_sentences

TOK, ENCODER, CLASSIFIER = "wordpiece-uncased", "tiny-bert", "tiny-sst2"
NO_GRAD = ("run the model inside `with torch.no_grad():` (or torch.inference_mode()): inference needs no gradients",
           "在 `with torch.no_grad():`（或 torch.inference_mode()）中运行模型：推理不需要梯度")
"""The likely mistake when a returned tensor carries autograd history (seen through the "grad" probe)."""


def _texts(rng, n=6):
    texts = sample_sentences(rng, n)
    texts[rng.randrange(n)] = " ".join(sample_sentences(rng, 80))  # longer than the model's 512 tokens
    return texts


@pytest.mark.grade(points=2, visibility="visible",
                   hint="Call the tokenizer once on the whole list with padding=True, truncation=True, return_tensors=\"pt\".",
                   hint_zh="对整个列表调用一次tokenizer，并传入 padding=True, truncation=True, return_tensors=\"pt\"。")
def test_preprocess_pads_and_truncates(student, fx, rng):
    texts = _texts(rng)
    tok = fx.load(TOK)
    want = tok(texts, padding=True, truncation=True)
    got = student.preprocess(fx.ref(TOK), texts)
    expect.true(isinstance(got, dict), f"preprocess returned a {type(got).__name__}, expected a dict of tensors")
    expect.equal(sorted(got), ["attention_mask", "input_ids", "token_type_ids"], "keys of the encoding")
    width = max(len(r) for r in want["input_ids"])
    ids = expect.tensor(got["input_ids"], "input_ids", shape=(len(texts), width),
                        likely=("the longest text must be truncated to 512 tokens: pass truncation=True",
                                "最长的文本必须截断到512个token：请传入 truncation=True"))
    expect.equal(ids.tolist(), want["input_ids"], "input_ids")
    expect.equal(expect.tensor(got["attention_mask"], "attention_mask").tolist(), want["attention_mask"], "attention_mask")


@pytest.mark.grade(points=2, hint="Use the base model's output .last_hidden_state, computed on the padded batch with its attention mask.",
                   hint_zh="使用基础模型输出的 .last_hidden_state，在带注意力掩码的补齐batch上计算。")
def test_hidden_states(student, reference, fx, rng):
    texts = _texts(rng, 5)
    got = student.call("hidden_states", fx.ref(ENCODER), fx.ref(TOK), texts, probe="grad")
    expect.true(not got["grad"], "hidden_states returned a tensor that carries autograd history", likely=NO_GRAD)
    got = got["value"]
    want = reference.hidden_states(fx.ref(ENCODER), fx.ref(TOK), texts)
    expect.close(got, want, "last hidden state", atol=1e-4,
                 likely=("pass the whole encoding, model(**inputs), so the attention mask is used",
                         "把整个编码传给模型 model(**inputs)，这样才会用到注意力掩码"))


@pytest.mark.grade(points=2, visibility="visible",
                   hint="Probabilities are torch.softmax(logits, dim=-1): one distribution per text.",
                   hint_zh="概率是 torch.softmax(logits, dim=-1)：每个文本一个分布。")
def test_predict_proba_is_a_distribution_per_text(student, fx, rng):
    texts = _texts(rng, 5)
    probs = expect.tensor(student.predict_proba(fx.ref(CLASSIFIER), fx.ref(TOK), texts), "probabilities",
                          shape=(5, 2))
    expect.true(bool(((probs >= 0) & (probs <= 1)).all()), "probabilities must lie in [0, 1]",
                likely=("these look like raw logits: apply softmax", "这看起来是原始logits：需要做softmax"))
    expect.close(probs.sum(dim=-1), torch.ones(5), "sum of each row of probabilities", atol=1e-5,
                 likely=("softmax over dim=-1 (the classes), not dim=0 (the batch)",
                         "softmax 应在 dim=-1（类别）上做，而不是 dim=0（batch）"))


@pytest.mark.grade(points=2, hint="Pass the attention mask to the model: model(**inputs), not model(inputs[\"input_ids\"]).",
                   hint_zh="把注意力掩码传给模型：用 model(**inputs)，而不是 model(inputs[\"input_ids\"])。")
def test_predict_proba_matches_reference(student, reference, fx, rng):
    texts = _texts(rng, 7)
    got = student.call("predict_proba", fx.ref(CLASSIFIER), fx.ref(TOK), texts, probe="grad")
    expect.true(not got["grad"], "predict_proba returned probabilities that carry autograd history", likely=NO_GRAD)
    got = got["value"]
    want = reference.predict_proba(fx.ref(CLASSIFIER), fx.ref(TOK), texts)
    expect.close(got, want, "probabilities", atol=1e-5,
                 likely=("probabilities of padded rows differ: did you pass attention_mask?",
                         "补齐的行概率不同：是否传入了 attention_mask？"))


@pytest.mark.grade(points=2, hint="Take argmax over dim=-1 of each row and map the index with model.config.id2label.",
                   hint_zh="对每一行在 dim=-1 上取 argmax，并用 model.config.id2label 映射索引。")
def test_predict_labels(student, reference, fx, rng):
    obvious = {"I love this movie": "POSITIVE", "This film was terrible": "NEGATIVE",
               "what a wonderful cast": "POSITIVE", "the plot was dull and boring": "NEGATIVE"}
    texts = list(obvious) + _texts(rng, 6)
    rng.shuffle(texts)
    got = student.predict_labels(fx.ref(CLASSIFIER), fx.ref(TOK), texts)
    probs = reference.predict_proba(fx.ref(CLASSIFIER), fx.ref(TOK), texts)
    id2label = fx.load(CLASSIFIER).config.id2label
    expect.equal(got, [id2label[int(i)] for i in probs.argmax(dim=-1)], "labels",
                 likely=("labels are names such as 'POSITIVE', from id2label of the argmax over the classes",
                         "标签是 'POSITIVE' 这样的名字，来自对类别取argmax后的 id2label"))
    for text, label in obvious.items():
        expect.equal(got[texts.index(text)], label, f"label of {text!r}")
