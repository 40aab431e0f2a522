"""1.4 How do Transformers work? — Transformer是如何工作的

Attention is softmax(Q Kᵀ / √d_k) V: every query mixes the values of the keys it may see.
A mask decides what it may see: an encoder (BERT) lets every token see every other one, a
decoder (GPT) only the tokens before it (a causal mask), and an encoder-decoder (T5, BART)
has one of each. Several heads run side by side on slices of the hidden size. The course's
sections 1.4 and 1.6 (architectures) are both here.
Course: https://huggingface.co/learn/llm-course/chapter1/4
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter1/4

注意力就是 softmax(Q Kᵀ / √d_k) V：每个查询按权重混合它能看到的键所对应的值。掩码决定能看到
什么：编码器（BERT）中每个token能看到所有token，解码器（GPT）只能看到它之前的token（因果掩码），
编码器-解码器（T5、BART）两者兼有。多个注意力头并行地作用在隐藏维度的不同切片上。
本节包括课程的 1.4 和 1.6（模型架构）两节。
"""

from __future__ import annotations

import math

import torch


def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None) -> torch.Tensor:
    """softmax(q kᵀ / √d_k) v over the last two dimensions: q is [..., Tq, d_k], k is
    [..., Tk, d_k], v is [..., Tk, d_v], the result [..., Tq, d_v]. ``mask`` is a bool tensor
    broadcastable to [..., Tq, Tk], True where a query may attend to a key; the scores of the
    other pairs are -inf before the softmax."""
    # BEGIN SOLUTION
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return scores.softmax(dim=-1) @ v
    # END SOLUTION


def causal_mask(n: int) -> torch.Tensor:
    """The [n, n] bool mask of a decoder: position i may attend to positions 0..i."""
    # BEGIN SOLUTION
    return torch.ones(n, n, dtype=torch.bool).tril()
    # END SOLUTION


def padding_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """The tokenizer's [batch, T] attention mask (1 = real token, 0 = padding) as a bool mask
    of shape [batch, 1, 1, T] for :func:`scaled_dot_product_attention` on [batch, heads, T, d]:
    every query may attend to the real tokens only."""
    # BEGIN SOLUTION
    return attention_mask.bool()[:, None, None, :]
    # END SOLUTION


def multi_head_attention(x: torch.Tensor, w_q: torch.Tensor, w_k: torch.Tensor, w_v: torch.Tensor,
                         w_o: torch.Tensor, num_heads: int, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Self-attention with ``num_heads`` heads on x of shape [batch, T, hidden]: project with
    ``x @ w.T`` (each w is [hidden, hidden], no bias), split the hidden size into heads of
    hidden // num_heads, attend in each head (``mask`` as in :func:`scaled_dot_product_attention`),
    put the heads back side by side, and project with ``w_o``. Returns [batch, T, hidden]."""
    # BEGIN SOLUTION
    batch, length, hidden = x.shape

    def heads(t: torch.Tensor) -> torch.Tensor:
        return t.view(batch, length, num_heads, hidden // num_heads).transpose(1, 2)

    out = scaled_dot_product_attention(heads(x @ w_q.T), heads(x @ w_k.T), heads(x @ w_v.T), mask)
    return out.transpose(1, 2).reshape(batch, length, hidden) @ w_o.T
    # END SOLUTION


def sees_future(model, input_ids: torch.Tensor) -> bool:
    """Whether the first token's last hidden state (``output_hidden_states=True``) changes
    when the last token of ``input_ids`` ([1, T], T >= 2) is replaced by another id."""
    # BEGIN SOLUTION
    changed = input_ids.clone()
    changed[0, -1] = (input_ids[0, -1] + 1) % model.config.vocab_size
    with torch.no_grad():
        before = model(input_ids=input_ids, output_hidden_states=True).hidden_states[-1][0, 0]
        after = model(input_ids=changed, output_hidden_states=True).hidden_states[-1][0, 0]
    return not torch.allclose(before, after, atol=1e-6)
    # END SOLUTION


def architecture_family(model, input_ids: torch.Tensor) -> str:
    """"encoder-decoder" if the model has both stacks (``config.is_encoder_decoder``),
    otherwise "encoder" if its tokens see later tokens (:func:`sees_future`) and "decoder"
    if they do not."""
    # BEGIN SOLUTION
    if model.config.is_encoder_decoder:
        return "encoder-decoder"
    return "encoder" if sees_future(model, input_ids) else "decoder"
    # END SOLUTION
