# Exercise 6.3b: fill in every TODO, then run `hfcourse check 6.3b`.
# 练习 6.3b：完成每个 TODO，然后运行 `hfcourse check 6.3b`。
"""6.3b Fast tokenizers in the QA pipeline — 在问答任务中使用快速tokenizer

Extractive question answering by hand (transformers 5 no longer has the
``question-answering`` pipeline): the model gives a start and an end logit per token;
tokens outside the context are masked, the best span maximises
``p(start) * p(end)`` with ``start <= end``, and the offsets turn it back into text. A
context longer than the model's window is split into overlapping windows with
``stride`` and ``return_overflowing_tokens``, and the best span over all windows wins.
Course: https://huggingface.co/learn/llm-course/chapter6/3b
中文课程：https://huggingface.co/learn/llm-course/zh-CN/chapter6/3b

手工实现抽取式问答（transformers 5 已移除 ``question-answering`` pipeline）：模型为每个
token 给出起点和终点 logit；屏蔽上下文以外的 token，选出 ``start <= end`` 且
``p(start) * p(end)`` 最大的区间，再用偏移量还原成文本。超过模型窗口的长上下文用
``stride`` 和 ``return_overflowing_tokens`` 切成重叠的窗口，取所有窗口中最好的答案。
"""

from __future__ import annotations

import torch


def best_span(start_logits, end_logits, sequence_ids: list[int | None]) -> tuple[int, int, float]:
    """The most likely answer span of one window.

    Every token whose sequence id is not 1 (the question, the special tokens, padding) gets
    the logit -10000, except token 0 (``[CLS]``), which is kept. Softmax turns each row of
    logits into probabilities; the score of span (s, e) is ``p_start[s] * p_end[e]`` and
    only spans with ``s <= e`` count. Returns ``(s, e, score)`` of the best span (the first
    one in row-major order on a tie).
    """
    # TODO: implement best_span (see the docstring)
    raise NotImplementedError("6.3b best_span: not implemented yet")


def answer_question(model, tokenizer, question: str, context: str) -> dict:
    """Answer ``question`` from a short ``context`` (one window): ``{"answer", "start",
    "end", "score"}`` where ``answer == context[start:end]`` is the ``best_span`` mapped
    to characters with the offsets."""
    # TODO: implement answer_question (see the docstring)
    raise NotImplementedError("6.3b answer_question: not implemented yet")


def context_windows(tokenizer, question: str, context: str, max_length: int, stride: int) -> list[str]:
    """Split a long context the way the model will see it: ``tokenizer(question, context,
    truncation="only_second", max_length=…, stride=…, return_overflowing_tokens=True,
    return_offsets_mapping=True)``. Returns, for each window, the part of ``context`` it
    covers (from the start of its first context token to the end of its last)."""
    # TODO: implement context_windows (see the docstring)
    raise NotImplementedError("6.3b context_windows: not implemented yet")


def answer_long_context(model, tokenizer, question: str, context: str, max_length: int = 384,
                        stride: int = 128) -> dict:
    """Answer ``question`` from a context of any length: tokenize it into padded windows
    as in ``context_windows``, run the model on all windows at once, take the
    ``best_span`` of each window and return the one with the highest score, as
    ``{"answer", "start", "end", "score"}``."""
    # TODO: implement answer_long_context (see the docstring)
    raise NotImplementedError("6.3b answer_long_context: not implemented yet")
