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
    # BEGIN SOLUTION
    return logits / temperature
    # END SOLUTION


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Logits of shape [batch, vocab] with every entry smaller than the row's k-th largest set
    to -inf (ties with the k-th are kept)."""
    # BEGIN SOLUTION
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))
    # END SOLUTION


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus filtering of [batch, vocab] logits: keep the smallest set of most likely tokens
    whose probabilities add up to more than ``p``, set the others to -inf. The most likely
    token is always kept."""
    # BEGIN SOLUTION
    ordered, order = torch.sort(logits, dim=-1, descending=False)
    cumulative = ordered.softmax(dim=-1).cumsum(dim=-1)
    remove = cumulative <= 1 - p
    remove[..., -1] = False
    return logits.masked_fill(remove.scatter(-1, order, remove), float("-inf"))
    # END SOLUTION


def repetition_penalty(logits: torch.Tensor, input_ids: torch.Tensor, penalty: float) -> torch.Tensor:
    """Logits [batch, vocab] with the tokens already in ``input_ids`` [batch, T] penalised:
    a positive logit is divided by ``penalty``, a negative one multiplied by it."""
    # BEGIN SOLUTION
    seen = torch.gather(logits, 1, input_ids)
    seen = torch.where(seen < 0, seen * penalty, seen / penalty)
    return logits.scatter(1, input_ids, seen)
    # END SOLUTION


def sampling_probs(logits: torch.Tensor, temperature: float, top_k: int, top_p: float) -> torch.Tensor:
    """The distribution a sampler draws the next token from: temperature, then top-k, then
    top-p, then softmax. Shape [batch, vocab]; each row sums to 1."""
    # BEGIN SOLUTION
    filtered = top_p_filter(top_k_filter(apply_temperature(logits, temperature), top_k), top_p)
    return filtered.softmax(dim=-1)
    # END SOLUTION


def greedy_decode(model, input_ids: torch.Tensor, max_new_tokens: int, use_cache: bool = True,
                  eos_token_id: int | None = None) -> torch.Tensor:
    """Greedy generation with a causal LM from ``input_ids`` [1, T] (no padding): append the
    argmax token ``max_new_tokens`` times, or stop right after appending ``eos_token_id``.
    With ``use_cache`` the prompt runs once and every later step feeds only the new token
    together with the model's cache (``model(input_ids=…, cache=…, use_cache=True)``, read
    ``out.cache``); without it every step reruns the whole sequence. Both give the same tokens.
    Returns [1, T + new tokens]."""
    # BEGIN SOLUTION
    tokens = input_ids
    step_input, cache = input_ids, None
    with torch.inference_mode():
        for _ in range(max_new_tokens):
            if use_cache:
                out = model(input_ids=step_input, cache=cache, use_cache=True, logits_to_keep=1)
                cache = out.cache
            else:
                out = model(input_ids=tokens, use_cache=False)
            next_token = out.logits[:, -1].argmax(dim=-1, keepdim=True)
            tokens = torch.cat([tokens, next_token], dim=-1)
            step_input = next_token
            if eos_token_id is not None and int(next_token) == eos_token_id:
                break
    return tokens
    # END SOLUTION


def truncate_at_stop(text: str, stops: list[str]) -> str:
    """``text`` cut just before the earliest occurrence of any stop sequence (unchanged if
    none occurs)."""
    # BEGIN SOLUTION
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=len(text))
    return text[:cut]
    # END SOLUTION


def generate_until(model, tokenizer, prompt: str, stops: list[str], max_new_tokens: int) -> str:
    """Greedy continuation of ``prompt`` (the new text only), generated one token at a time
    with a cache and stopped as soon as the decoded new text contains a stop sequence; the
    result is cut before the earliest stop (:func:`truncate_at_stop`)."""
    # BEGIN SOLUTION
    prompt_ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    step_input, cache, new = prompt_ids, None, []
    text = ""
    with torch.inference_mode():
        for _ in range(max_new_tokens):
            out = model(input_ids=step_input, cache=cache, use_cache=True, logits_to_keep=1)
            cache = out.cache
            step_input = out.logits[:, -1].argmax(dim=-1, keepdim=True)
            new.append(int(step_input))
            text = tokenizer.decode(new)
            if any(s and s in text for s in stops):
                break
    return truncate_at_stop(text, stops)
    # END SOLUTION
