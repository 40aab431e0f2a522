# Exercise 1.8: fill in every TODO, then run `hfcourse check 1.8`.
# 练习 1.8：完成每个 TODO，然后运行 `hfcourse check 1.8`。
"""1.8 Inference with LLMs — 大语言模型的推理

Generation is a loop: the prefill runs the whole prompt once, then each decode step feeds one
new token. A KV cache keeps the keys and values of the tokens already seen, so a step costs
one token's work instead of the whole sequence's. Each step turns the last logits into the
next token: greedily (argmax), or by sampling after a repetition penalty, a temperature and
top-k / top-p filtering. Stop sequences end the text early.
Course: https://huggingface.co/learn/llm-course/chapter1/8
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter1/8

生成是一个循环：预填充（prefill）一次处理整个提示，之后每个解码步骤只输入一个新token。KV缓存保存
已处理token的键和值，因此每一步只需一个token的计算量，而不是整个序列的。每一步把最后的logits变成
下一个token：贪心（argmax），或者在重复惩罚、温度和 top-k / top-p 过滤之后采样。停止序列会提前
结束文本。
"""

from __future__ import annotations

import torch


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Logits divided by ``temperature`` (> 0): below 1 sharpens the distribution, above 1
    flattens it."""
    # TODO: implement apply_temperature (see the docstring)
    raise NotImplementedError("1.8 apply_temperature: not implemented yet")


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Logits of shape [batch, vocab] with every entry smaller than the row's k-th largest set
    to -inf (ties with the k-th are kept)."""
    # TODO: implement top_k_filter (see the docstring)
    raise NotImplementedError("1.8 top_k_filter: not implemented yet")


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filtering of [batch, vocab] logits: keep the smallest set of most likely tokens
    whose probabilities add up to more than ``p``, set the others to -inf. The most likely
    token is always kept."""
    # TODO: implement top_p_filter (see the docstring)
    raise NotImplementedError("1.8 top_p_filter: not implemented yet")


def repetition_penalty(logits: torch.Tensor, input_ids: torch.Tensor, penalty: float) -> torch.Tensor:
    """Logits [batch, vocab] with the tokens already in ``input_ids`` [batch, T] penalised:
    a positive logit is divided by ``penalty``, a negative one multiplied by it."""
    # TODO: implement repetition_penalty (see the docstring)
    raise NotImplementedError("1.8 repetition_penalty: not implemented yet")


def sampling_probs(logits: torch.Tensor, temperature: float, top_k: int, top_p: float) -> torch.Tensor:
    """The distribution a sampler draws the next token from: temperature, then top-k, then
    top-p, then softmax. Shape [batch, vocab]; each row sums to 1."""
    # TODO: implement sampling_probs (see the docstring)
    raise NotImplementedError("1.8 sampling_probs: not implemented yet")


def greedy_decode(model, input_ids: torch.Tensor, max_new_tokens: int, use_cache: bool = True,
                  eos_token_id: int | None = None) -> torch.Tensor:
    """Greedy generation with a causal LM from ``input_ids`` [1, T] (no padding): append the
    argmax token ``max_new_tokens`` times, or stop right after appending ``eos_token_id``.
    With ``use_cache`` the prompt runs once and every later step feeds only the new token
    together with the model's cache (``model(input_ids=…, cache=…, use_cache=True)``, read
    ``out.cache``); without it every step reruns the whole sequence. Both give the same tokens.
    Returns [1, T + new tokens]."""
    # TODO: implement greedy_decode (see the docstring)
    raise NotImplementedError("1.8 greedy_decode: not implemented yet")


def truncate_at_stop(text: str, stops: list[str]) -> str:
    """``text`` cut just before the earliest occurrence of any stop sequence (unchanged if
    none occurs)."""
    # TODO: implement truncate_at_stop (see the docstring)
    raise NotImplementedError("1.8 truncate_at_stop: not implemented yet")


def generate_until(model, tokenizer, prompt: str, stops: list[str], max_new_tokens: int) -> str:
    """Greedy continuation of ``prompt`` (the new text only), generated one token at a time
    with a cache and stopped as soon as the decoded new text contains a stop sequence; the
    result is cut before the earliest stop (:func:`truncate_at_stop`)."""
    # TODO: implement generate_until (see the docstring)
    raise NotImplementedError("1.8 generate_until: not implemented yet")
