"""Grader for 2.5 Handling multiple sequences."""

import pytest
import torch

from hfcourse import expect
from hfcourse.fixtures.text import sample_sentences

TOK, CLASSIFIER = "wordpiece-uncased", "tiny-sst2"
NO_GRAD = ("run the model inside `with torch.no_grad():` (or torch.inference_mode()): inference needs no gradients",
           "在 `with torch.no_grad():`（或 torch.inference_mode()）中运行模型：推理不需要梯度")
"""The likely mistake when a returned tensor carries autograd history (seen through the "grad" probe)."""


def _ids(fx, rng, n):
    tok = fx.load(TOK)
    rows = tok(sample_sentences(rng, n))["input_ids"]
    rows.sort(key=len)
    if len(rows[0]) == len(rows[-1]):
        rows[0] = rows[0][:-2] + rows[0][-1:]
    rng.shuffle(rows)
    return rows


@pytest.mark.grade(points=1, visibility="visible", hint="torch.tensor([ids]) — note the extra brackets.",
                   hint_zh="torch.tensor([ids])——注意多出的一层方括号。")
def test_add_batch_dim(student, fx, rng):
    ids = _ids(fx, rng, 1)[0]
    got = expect.tensor(student.add_batch_dim(ids), "batch", shape=(1, len(ids)), dtype=torch.int64)
    expect.equal(got.tolist(), [ids], "batch of one")


@pytest.mark.grade(points=3, visibility="visible",
                   hint="Append pad_id to every shorter row up to the longest; the mask is 1 for real tokens, 0 for padding.",
                   hint_zh="把每个较短的行在末尾补上 pad_id 直到最长；掩码对真实token为1，补齐处为0。")
def test_pad_batch(student, fx, rng):
    rows = _ids(fx, rng, 5)
    pad_id = rng.randrange(5, 90)
    longest = max(map(len, rows))
    got = student.pad_batch(rows, pad_id)
    expect.true(isinstance(got, (tuple, list)) and len(got) == 2, "pad_batch must return (input_ids, attention_mask)")
    ids = expect.tensor(got[0], "input_ids", shape=(len(rows), longest), dtype=torch.int64)
    mask = expect.tensor(got[1], "attention_mask", shape=(len(rows), longest), dtype=torch.int64)
    expect.equal(ids.tolist(), [r + [pad_id] * (longest - len(r)) for r in rows], "padded input_ids",
                 likely=("pad on the right, with the pad_id you were given", "在右侧补齐，使用传入的 pad_id"))
    expect.equal(mask.tolist(), [[1] * len(r) + [0] * (longest - len(r)) for r in rows], "attention_mask",
                 likely=("1 marks real tokens, 0 marks padding", "1 表示真实token，0 表示补齐"))


def _pair_where_padding_shows(fx, rng) -> list[list[int]]:
    """Two rows of different lengths (shortest first) for which padding the short one without a
    mask moves its logits by more than 1e-3: for about 2 pairs in 100 this model's logits move
    by less than 1e-4, too little to tell a masked run from an unmasked one."""
    model, pad_id = fx.load(CLASSIFIER), fx.load(TOK).pad_token_id
    for _ in range(50):
        rows = sorted(_ids(fx, rng, 2), key=len)
        short = rows[0] + [pad_id] * (len(rows[1]) - len(rows[0]))
        with torch.inference_mode():
            alone, padded = model(torch.tensor([rows[0]])).logits[0], model(torch.tensor([short])).logits[0]
        if float((alone - padded).abs().max()) > 1e-3:
            return rows
    raise RuntimeError("no sentence pair shows the effect of padding on this model")


@pytest.mark.grade(points=3, hint="Run the short sequence alone, then in the padded batch with attention_mask=mask, then without it.",
                   hint_zh="先单独运行短序列，再在补齐的batch中带 attention_mask=mask 运行，最后不带掩码运行。")
def test_mask_matters(student, reference, fx, rng):
    rows = _pair_where_padding_shows(fx, rng)
    pad_id = fx.load(TOK).pad_token_id
    got = student.call("mask_matters", fx.ref(CLASSIFIER), rows[0], rows[1], pad_id, probe="grad")
    expect.true(not got["grad"], "mask_matters returned logits that carry autograd history", likely=NO_GRAD)
    got = got["value"]
    expect.true(isinstance(got, (tuple, list)) and len(got) == 3, "mask_matters must return three logit tensors")
    alone, masked, unmasked = (expect.tensor(t, name, shape=(2,)) for t, name in zip(got, ("alone", "masked", "unmasked")))
    expect.close(masked, alone, "logits with padding and attention mask vs. alone", atol=1e-4,
                 likely=("with the attention mask, padding must not change the logits", "有注意力掩码时，补齐不应改变logits"))
    expect.differs(unmasked, alone, "logits with padding but no attention mask vs. alone",
                   likely=("the unmasked run must leave out attention_mask", "不带掩码的那次运行不应传 attention_mask"))
    want = reference.mask_matters(fx.ref(CLASSIFIER), rows[0], rows[1], pad_id)
    expect.close(unmasked, want[2], "logits without the mask", atol=1e-4)


@pytest.mark.grade(points=1, hint="A slice, sequence[:max_length], keeps the first ids.",
                   hint_zh="切片 sequence[:max_length] 保留前面的id。")
def test_truncate(student, fx, rng):
    rows = _ids(fx, rng, 4)
    max_length = rng.randrange(3, 8)
    expect.equal(student.truncate(rows, max_length), [r[:max_length] for r in rows], "truncated sequences")


@pytest.mark.grade(points=2, hint="Pad with your pad_batch, then model(ids, attention_mask=mask).logits in one call.",
                   hint_zh="先用 pad_batch 补齐，再一次调用 model(ids, attention_mask=mask).logits。")
def test_batched_logits_equal_single_runs(student, reference, fx, rng):
    rows = _ids(fx, rng, 4)
    pad_id = fx.load(TOK).pad_token_id
    got = student.call("batched_logits", fx.ref(CLASSIFIER), rows, pad_id, probe="grad")
    expect.true(not got["grad"], "batched_logits returned logits that carry autograd history", likely=NO_GRAD)
    got = expect.tensor(got["value"], "logits", shape=(4, 2))
    for i, row in enumerate(rows):
        alone = reference.batched_logits(fx.ref(CLASSIFIER), [row], pad_id)[0]
        expect.close(got[i], alone, f"row {i} of the batched logits vs. that sequence alone", atol=1e-4,
                     likely=("padded rows change without the attention mask", "没有注意力掩码时，补齐的行会改变"))
