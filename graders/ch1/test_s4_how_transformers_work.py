"""Grader for 1.4 How do Transformers work?"""

import pytest
import torch
import torch.nn.functional as F

from hfcourse import expect
from hfcourse.fixtures.text import sample_sentences

MODELS = {"tiny-bert": ("wordpiece-uncased", "encoder"), "bias-mlm": ("wordpiece-uncased", "encoder"),
          "tiny-gpt2": ("bpe-gpt2", "decoder"), "tiny-t5": ("unigram-t5", "encoder-decoder")}


def _gen(rng) -> torch.Generator:
    return torch.Generator().manual_seed(rng.randrange(2**31))


def _qkv(rng, batch=2, heads=3, tq=5, tk=7, d=None):
    g = _gen(rng)
    d = d or rng.choice((4, 8, 16))
    shape = (batch, heads)
    return (torch.randn(*shape, tq, d, generator=g), torch.randn(*shape, tk, d, generator=g),
            torch.randn(*shape, tk, rng.choice((3, 6)), generator=g))


@pytest.mark.grade(points=2, visibility="visible",
                   hint="scores = q @ k.transpose(-2, -1) / sqrt(d_k); softmax over the last dimension (the keys); then @ v.",
                   hint_zh="scores = q @ k.transpose(-2, -1) / sqrt(d_k)；在最后一维（键）上做softmax；再乘以 v。")
def test_attention_matches_torch(student, rng):
    for d in (4, 16):
        q, k, v = _qkv(rng, d=d)
        got = student.scaled_dot_product_attention(q, k, v)
        expect.close(got, F.scaled_dot_product_attention(q, k, v), f"attention output with d_k={d}", atol=1e-5,
                     likely=("divide the scores by sqrt(d_k), the size of the last dimension of q, and softmax over dim=-1",
                             "分数要除以 sqrt(d_k)（q最后一维的大小），并在 dim=-1 上做softmax"))


@pytest.mark.grade(points=2, hint="masked_fill(~mask, float(\"-inf\")) on the scores before the softmax, so masked keys get weight 0.",
                   hint_zh="在softmax之前对分数做 masked_fill(~mask, float(\"-inf\"))，这样被遮住的键权重为0。")
def test_attention_with_mask(student, reference, rng):
    q, k, v = _qkv(rng, tq=6, tk=6)
    mask = torch.rand(2, 1, 6, 6, generator=_gen(rng)) < 0.6
    mask[..., 0] = True
    got = student.scaled_dot_product_attention(q, k, v, mask)
    expect.close(got, F.scaled_dot_product_attention(q, k, v, attn_mask=mask), "attention output with a mask",
                 atol=1e-5, likely=("True means 'may attend': fill the scores where the mask is False with -inf",
                                    "True 表示“可以关注”：在mask为False的位置把分数设为 -inf"))
    expect.close(got, reference.scaled_dot_product_attention(q, k, v, mask), "against the reference", atol=1e-5,
                 likely=("mask before the softmax, not after it", "在softmax之前加掩码，而不是之后"))


@pytest.mark.grade(points=2, hint="torch.ones(n, n, dtype=torch.bool).tril(): row i is True up to column i.",
                   hint_zh="torch.ones(n, n, dtype=torch.bool).tril()：第 i 行到第 i 列为 True。")
def test_causal_mask(student, rng):
    n = rng.randint(3, 9)
    got = expect.tensor(student.causal_mask(n), "causal mask", shape=(n, n), dtype=torch.bool,
                        likely=("return an [n, n] tensor of dtype torch.bool", "返回形状为 [n, n]、dtype 为 torch.bool 的张量"))
    expect.equal(got.tolist(), torch.ones(n, n, dtype=torch.bool).tril().tolist(), "causal mask",
                 likely=("a token sees itself and the tokens before it: the lower triangle, diagonal included",
                         "每个token能看到自己和之前的token：下三角，包含对角线"))
    q, k, v = _qkv(rng, tq=n, tk=n)
    out = student.scaled_dot_product_attention(q, k, v, student.causal_mask(n))
    expect.close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), "attention with your causal mask",
                 atol=1e-5, likely=("row i of the mask allows columns 0..i", "掩码的第 i 行允许第 0..i 列"))


@pytest.mark.grade(points=1, hint="attention_mask.bool()[:, None, None, :] broadcasts over heads and queries.",
                   hint_zh="attention_mask.bool()[:, None, None, :] 可以在头和查询两个维度上广播。")
def test_padding_mask(student, fx, rng):
    tok = fx.load("wordpiece-uncased")
    enc = tok(sample_sentences(rng, 3), padding=True, return_tensors="pt")
    width = enc["input_ids"].shape[1]
    got = expect.tensor(student.padding_mask(enc["attention_mask"]), "padding mask", shape=(3, 1, 1, width),
                        dtype=torch.bool, likely=("index as [:, None, None, :] so it broadcasts to [batch, heads, T, T]",
                                                  "用 [:, None, None, :] 索引，使其能广播到 [batch, heads, T, T]"))
    expect.equal(got[:, 0, 0].tolist(), enc["attention_mask"].bool().tolist(), "padding mask",
                 likely=("True for real tokens (attention_mask 1), False for padding", "真实token（attention_mask为1）为True，补齐为False"))


@pytest.mark.grade(points=2, hint="Project with x @ w.T, view as [batch, T, heads, d] and transpose(1, 2); after attention transpose back and reshape to [batch, T, hidden].",
                   hint_zh="用 x @ w.T 投影，view 成 [batch, T, heads, d] 再 transpose(1, 2)；注意力之后转置回来并 reshape 成 [batch, T, hidden]。")
def test_multi_head_attention(student, reference, rng):
    g = _gen(rng)
    heads = rng.choice((2, 4))
    hidden, length = 8 * heads, rng.randint(4, 9)
    x = torch.randn(2, length, hidden, generator=g)
    w = [torch.randn(hidden, hidden, generator=g) / hidden ** 0.5 for _ in range(4)]
    mha = torch.nn.MultiheadAttention(hidden, heads, bias=False, batch_first=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat(w[:3]))
        mha.out_proj.weight.copy_(w[3])
        want, _ = mha(x, x, x, need_weights=False)
        want_causal, _ = mha(x, x, x, attn_mask=~torch.ones(length, length, dtype=torch.bool).tril(), need_weights=False)
    got = student.multi_head_attention(x, *w, heads)
    expect.close(got, want, f"{heads}-head self-attention against torch.nn.MultiheadAttention", atol=1e-4,
                 likely=("split heads with view(batch, T, heads, d).transpose(1, 2), not view(batch, heads, T, d)",
                         "用 view(batch, T, heads, d).transpose(1, 2) 拆分多头，而不是 view(batch, heads, T, d)"))
    causal = torch.ones(length, length, dtype=torch.bool).tril()
    expect.close(student.multi_head_attention(x, *w, heads, causal), want_causal, "causal multi-head attention", atol=1e-4)
    expect.close(got, reference.multi_head_attention(x, *w, heads), "against the reference", atol=1e-5,
                 likely=("merge the heads with transpose(1, 2).reshape(batch, T, hidden) before w_o",
                         "在乘 w_o 之前用 transpose(1, 2).reshape(batch, T, hidden) 合并多头"))


@pytest.mark.grade(points=2, hint="Change the last token and compare the first token's last hidden state: an encoder's changes, a decoder's does not.",
                   hint_zh="改变最后一个token，比较第一个token的最后一层隐状态：编码器会变，解码器不会。")
def test_architecture_family(student, fx, rng):
    text = sample_sentences(rng, 1, 4, 10)[0]
    for name, (tok, family) in MODELS.items():
        ids = fx.load(tok)(text, return_tensors="pt")["input_ids"]
        if family != "encoder-decoder":
            expect.equal(student.sees_future(fx.ref(name), ids), family == "encoder", f"sees_future for {name}",
                         likely=("compare hidden_states[-1][0, 0] of the two runs, not the last position",
                                 "比较两次运行的 hidden_states[-1][0, 0]，而不是最后一个位置"))
        expect.equal(student.architecture_family(fx.ref(name), ids), family, f"family of {name}",
                     likely=("GPT-2's config has is_decoder=False: test what the tokens see, not the flag",
                             "GPT-2 的 config 中 is_decoder=False：要检验token能看到什么，而不是看这个标志"))
